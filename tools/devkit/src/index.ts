export { freePort, randomLoopbackBase, randomPrefix, waitFor } from './net';
export { hasRedisServer, launchRedis, REDIS_INSTALL_HINT, startRedisServer, type RedisProcess, type RedisServer } from './redis-server';
export { REPO_ROOT, runToEnd, serviceEntry, SERVICES, startProcess, startService, type Output, type ServiceName, type ServiceProcess } from './services';
export { PRIVATE_REDIS_KINDS, privateRedisFromEnv, startPrivateRedis, startStack, type PrivateRedis, type PrivateRedisKind, type Stack, type StackOptions } from './stack';
export { redisCli, startRedisCluster, startSentinelSet, type RedisCluster, type RedisDeployment, type RedisNodeProcess, type SentinelOptions, type SentinelSet } from './redis-ha';
export { hostCgroupFolders, listensOn, processTree, stillRunning, type ProcessId } from './leftovers';
