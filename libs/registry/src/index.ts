export { keySchema, type KeySchema } from './keys';
export {
  newToken,
  redactUrl,
  Registry,
  type RegistryEvent,
  type RegistryOptions,
  type SlotReadyOutcome,
  type SlotRequest,
  type StartJobOutcome,
} from './registry';
