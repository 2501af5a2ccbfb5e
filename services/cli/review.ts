import type { Config } from '../../schemas/config.ts';
import { createChannels } from '../common/channels/index.ts';
import { renderText } from '../common/channels/format.ts';
import { createElasticsearch, elasticsearchConfigProblem } from '../common/elasticsearch.ts';
import { UserError } from '../common/errors.ts';
import { accessReview, localAccessReview, reviewNotification } from '../scheduler/review.ts';
import { parseTime } from './search.ts';

/** `podwatch review --since 7d`: the access review now (from Elasticsearch, or the local store without it), printed (text or JSON) and with --send delivered. */
export async function reviewCommand(cfg: Readonly<Config>, o: { since: string; json: boolean; send: boolean }): Promise<void> {
  const now = Date.now();
  const days = (now - Date.parse(parseTime(o.since, now))) / 86_400_000;
  if (!(days > 0)) throw new UserError('--since must be in the past');
  const es = cfg.elasticsearch ? createElasticsearch(cfg.elasticsearch) : undefined;
  try {
    // Without Elasticsearch, from the local store standalone mode keeps.
    const r = await (es ? accessReview(es, cfg.elasticsearch!.namespace, cfg.scheduler.access_review, now, days) : localAccessReview(cfg.store.dir, cfg.scheduler.access_review, now, days))
      .catch((err: Error) => { throw (es && elasticsearchConfigProblem(err, cfg.elasticsearch!)) || new UserError(`cannot build the review from ${es ? cfg.elasticsearch!.url : `the local store ${cfg.store.dir}`}: ${err.message}`); });
    const n = reviewNotification(r, cfg.host.name!);
    process.stdout.write(o.json ? `${JSON.stringify(r, null, 2)}\n` : renderText(n));
    if (o.send) {
      const channels = createChannels(cfg.alerter);
      for (const name of cfg.scheduler.access_review.channels ?? cfg.alerter.default_channels) {
        await channels.get(name)!.send(n, 1).then(() => process.stderr.write(`sent to ${name}\n`), (err: Error) => {
          process.stderr.write(`podwatch: ${name} did not accept the review: ${err.message}\n`);
          process.exitCode = 1;
        });
      }
      for (const c of channels.values()) c.close?.();
    }
  } finally {
    await es?.close();
  }
}
