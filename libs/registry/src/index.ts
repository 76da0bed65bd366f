export { Registry } from './registry';
export { redactUrl, type RegistryOptions } from './connection';
export { RegistryUnavailableError } from './errors';
export { RegistryReplyError } from './reply-codes';
export { SlotInventory, type SetStateOutcome, type SlotReadyOutcome } from './facets/slots';
export { LeaseQueue, type SlotRequest } from './facets/queue';
export { JobLedger, type StartJobOutcome } from './facets/jobs';
export { KeyAdmission, type Admission, type KeyLimits } from './facets/admission';
export { Liveness, type RegistryEvent } from './facets/liveness';
