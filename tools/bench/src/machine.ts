import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, release, totalmem } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { machineBusyMs } from './procfs';

export interface MachineInfo {
  cpuModel: string;
  /** Logical CPUs this process may use. */
  cores: number;
  ramBytes: number;
  kernel: string;
  /** The node that runs the services (the harness starts them with its own binary). */
  servicesNode: string;
  /** The sandbox runtime (`resolveSandboxNode() -v`). */
  sandboxNode: string;
  redis: string;
  commit: string;
  /** Uncommitted changes in the working tree when the run started. */
  dirty: boolean;
}

/** The CPU model from /proc/cpuinfo ("model name", or what ARM boards call it). */
export function parseCpuModel(cpuinfo: string): string {
  for (const key of ['model name', 'Hardware', 'cpu model', 'Processor']) {
    const match = new RegExp(`^${key}\\s*:\\s*(.+)$`, 'm').exec(cpuinfo);
    if (match?.[1]?.trim()) return match[1].trim();
  }
  return 'unknown';
}

/** MemTotal from /proc/meminfo, in bytes; null when absent. */
export function parseMemTotalBytes(meminfo: string): number | null {
  const match = /^MemTotal:\s+(\d+)\s+kB$/m.exec(meminfo);
  return match ? Number(match[1]) * 1024 : null;
}

/** "Redis server v=7.0.15 sha=…" → "7.0.15". */
export function parseRedisVersion(text: string): string {
  return /v=(\S+)/.exec(text)?.[1] ?? (text.trim() || 'unknown');
}

function tryRun(command: string, args: readonly string[], cwd?: string): string | null {
  try {
    return execFileSync(command, args, { encoding: 'utf8', cwd, stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 }).trim();
  } catch {
    return null;
  }
}

function tryRead(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

export function collectMachineInfo(repoRoot: string, sandboxNode: string): MachineInfo {
  return {
    cpuModel: parseCpuModel(tryRead('/proc/cpuinfo')),
    cores: availableParallelism(),
    ramBytes: parseMemTotalBytes(tryRead('/proc/meminfo')) ?? totalmem(),
    kernel: `Linux ${release()}`,
    servicesNode: process.version,
    sandboxNode: tryRun(sandboxNode, ['-v']) ?? 'unknown',
    redis: parseRedisVersion(tryRun('redis-server', ['--version']) ?? ''),
    commit: tryRun('git', ['rev-parse', 'HEAD'], repoRoot) ?? 'unknown',
    dirty: (tryRun('git', ['status', '--porcelain'], repoRoot) ?? '') !== '',
  };
}

/** Share of all cores (0–1) that was busy over the next `ms`: what else runs on the machine while the harness waits. */
export async function backgroundLoad(ms: number, cores = availableParallelism()): Promise<number> {
  const before = machineBusyMs();
  const started = Date.now();
  await sleep(ms);
  return (machineBusyMs() - before) / ((Date.now() - started) * cores);
}
