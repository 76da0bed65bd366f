export { killCgroup, prepareCgroups, readCgroupCpuMs, type CgroupHost, type SandboxCgroup } from './cgroup';
