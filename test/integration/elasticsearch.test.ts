import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createElasticsearch, createOnce } from '../../services/common/elasticsearch.ts';
import { stackConfig, uniq } from '../helpers/stack.ts';

const cfg = stackConfig();
const es = createElasticsearch(cfg.elasticsearch!);
const index = uniq('podwatch-test');

test('the client creates an index template, indexes and finds documents', async () => {
  await es.indices.putIndexTemplate({
    name: index,
    body: {
      index_patterns: [`${index}*`],
      template: {
        settings: { number_of_shards: 1, number_of_replicas: 0 },
        mappings: { properties: { 'source': { properties: { ip: { type: 'ip' } } }, user: { properties: { name: { type: 'keyword' } } } } },
      },
    },
  });
  await createOnce(es, index, 'e1', { user: { name: 'alice' }, source: { ip: '10.1.2.3' } });
  await createOnce(es, index, 'e2', { user: { name: 'bob' }, source: { ip: '192.168.5.5' } });
  await es.indices.refresh({ index });
  const { body: mapping } = await es.indices.getMapping({ index });
  assert.equal(mapping[index].mappings.properties.source.properties.ip.type, 'ip');
  const { body } = await es.search({ index, body: { query: { term: { 'source.ip': '10.0.0.0/8' } } } });
  assert.deepEqual(body.hits.hits.map((h: { _id: string }) => h._id), ['e1']);
});

test('a document created twice with the same _id stays one document; the 409 is success', async () => {
  assert.equal(await createOnce(es, index, 'dup', { n: 1 }, true), 'created');
  assert.equal(await createOnce(es, index, 'dup', { n: 2 }, true), 'exists');
  const { body } = await es.count({ index, body: { query: { ids: { values: ['dup'] } } } });
  assert.equal(body.count, 1);
  const { body: doc } = await es.get({ index, id: 'dup' });
  assert.equal(doc._source.n, 1, 'the second create must not overwrite');
});

after(async () => {
  await es.indices.delete({ index }).catch(() => undefined);
  await es.indices.deleteIndexTemplate({ name: index }).catch(() => undefined);
  await es.close();
});
