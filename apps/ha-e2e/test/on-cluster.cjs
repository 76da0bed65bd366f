// Every stack the suites start without a Redis of their own gets a private three-master Redis
// Cluster (tools/devkit startStack); the failover test brings its Sentinels itself.
process.env.CORRAL_TEST_REDIS = 'cluster';
