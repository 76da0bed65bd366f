import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { startRedisServer } from '../src/redis-server';

function command(port: number, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(`${line}\r\n`));
    socket.once('data', (d) => {
      resolve(d.toString());
      socket.end();
    });
    socket.once('error', reject);
  });
}

describe('private redis-server', () => {
  it('starts on a free port, requires its password, and leaves nothing when stopped', async () => {
    const redis = await startRedisServer({ password: 's3cret' });
    expect(redis.url).toBe(`redis://:s3cret@127.0.0.1:${redis.port}`);
    expect(await command(redis.port, 'PING')).toMatch(/NOAUTH/);
    expect(await command(redis.port, 'AUTH s3cret')).toBe('+OK\r\n');
    const dir = (redis.process.spawnargs[redis.process.spawnargs.indexOf('--dir') + 1])!;
    expect(existsSync(dir)).toBe(true);
    await redis.stop();
    expect(redis.process.exitCode !== null || redis.process.signalCode !== null).toBe(true);
    expect(existsSync(dir)).toBe(false);
    await expect(command(redis.port, 'PING')).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe('private redis-server restart', () => {
  it('comes back on the same port with the same password and no data', async () => {
    const redis = await startRedisServer({ password: 'pw-restart' });
    try {
      await command(redis.port, 'AUTH pw-restart');
      const before = redis.process.pid;
      await redis.restart();
      expect(redis.process.pid).not.toBe(before);
      expect(await command(redis.port, 'PING')).toMatch(/NOAUTH/);
    } finally {
      await redis.stop();
    }
  });
});
