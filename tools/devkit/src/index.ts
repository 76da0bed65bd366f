export { freePort, randomLoopbackBase, randomPrefix, waitFor } from './net';
export { hasRedisServer, REDIS_INSTALL_HINT, startRedisServer, type RedisServer } from './redis-server';
export { REPO_ROOT, runToEnd, serviceEntry, SERVICES, startProcess, startService, type Output, type ServiceName, type ServiceProcess } from './services';
export { startStack, type Stack, type StackOptions } from './stack';
export { hostCgroupFolders, listensOn, processTree, stillRunning, type ProcessId } from './leftovers';
