// The registry's whole spec again, on a three-master Redis Cluster: every script, transaction,
// pipeline and (sharded) pub/sub channel must work where the keys live on one shard of many.
// Jest runs registry.spec.ts on its own too, on one server.
process.env['CORRAL_TEST_REDIS'] ??= 'cluster';
require('./registry.spec');
