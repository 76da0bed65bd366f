import type { CorralClient } from '@corral/client';
import { EXIT } from './exit-codes';
import { table, type Output } from './output';

/** `corral status`: the pool (slots by state, the queue, the consistency check) and each worker host. */
export async function statusCommand(client: CorralClient, options: { json?: boolean }, o: Output, signal: AbortSignal): Promise<number> {
  const pool = await client.pool({ signal });
  if (options.json) {
    o.out.write(JSON.stringify(pool, null, 2) + '\n');
    return EXIT.ok;
  }
  const { co } = o;
  o.out.write(`${co.bold(client.baseUrl)}: ${pool.total} slots, ${co.green(`${pool.idle} idle`)}, ${co.yellow(`${pool.busy} busy`)}, ${pool.booting} booting, ${pool.dead ? co.red(`${pool.dead} dead`) : '0 dead'}; ${pool.queued} queued\n`);
  o.out.write(pool.consistent ? `${co.green('consistent')}\n` : `${co.red('not consistent')}: ${pool.problems.join('; ')}\n`);
  if (pool.hosts.length > 0) {
    const rows = [['host', 'runtime', 'jail', 'layers off'].map((h) => co.dim(h))];
    for (const host of pool.hosts) rows.push([host.id, host.runtime, host.jail.mode, host.jail.off.length ? host.jail.off.join(', ') : '-']);
    o.out.write(table(rows));
  }
  return EXIT.ok;
}
