import { readdirSync } from 'node:fs';
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
    const args = redis.process.spawnargs;
    // No persistence: a SIGKILLed launcher cannot leave a folder or a dump behind.
    expect(args.slice(args.indexOf('--save'), args.indexOf('--save') + 2)).toEqual(['--save', '']);
    expect(args.slice(args.indexOf('--appendonly'), args.indexOf('--appendonly') + 2)).toEqual(['--appendonly', 'no']);
    const dir = args[args.indexOf('--dir') + 1]!;
    const redisFiles = (): string[] => readdirSync(dir).filter((name) => /^(dump.*\.rdb|temp-.*\.rdb|appendonly.*)$/.test(name));
    const before = redisFiles();
    await redis.stop();
    expect(redis.process.exitCode !== null || redis.process.signalCode !== null).toBe(true);
    expect(redisFiles()).toEqual(before);
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
