import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { parseConfig } from '../../services/common/config.ts';
import { execForm, parseContainerfile } from '../helpers/containerfile.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const deploy = path.join(root, 'deploy');

test('Containerfile: multi-stage, non-root, HEALTHCHECK; its build steps run and the result works', () => {
  const file = path.join(deploy, 'Containerfile');
  const ins = parseContainerfile(file);
  const stages = ins.filter((i) => i.op === 'FROM').map((i) => i.stage);
  assert.deepEqual(stages, ['build', 'runtime']);
  const runtime = ins.filter((i) => i.stage === 'runtime');
  const user = runtime.filter((i) => i.op === 'USER').pop();
  assert.ok(user && !/^(0|root)(:|$)/.test(user.args), 'the runtime runs as a non-root user');
  assert.ok(runtime.some((i) => i.op === 'HEALTHCHECK'), 'HEALTHCHECK');
  for (const c of ins.filter((i) => i.op === 'COPY')) {
    const from = /--from=(\S+)/.exec(c.args)?.[1];
    const parts = c.args.replace(/--\S+\s+/g, '').split(/\s+/);
    if (from) assert.ok(stages.indexOf(from) >= 0 && stages.indexOf(from) < stages.indexOf(c.stage), `line ${c.line}: --from=${from} is an earlier stage`);
    else for (const src of parts.slice(0, -1)) assert.ok(fs.existsSync(path.join(root, src)), `line ${c.line}: ${src} exists`);
  }

  // No container engine can pull a base image here: replay the build stage's COPY and RUN steps in
  // a scratch directory with the same commands, then run the runtime's entrypoint from the result.
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'podwatch-image-'));
  const src = path.join(work, 'src');
  fs.mkdirSync(src);
  for (const i of ins.filter((x) => x.stage === 'build')) {
    if (i.op === 'COPY') {
      const parts = i.args.split(/\s+/);
      const dest = path.join(src, parts[parts.length - 1]!);
      for (const s of parts.slice(0, -1)) fs.cpSync(path.join(root, s), dest.endsWith('/') ? path.join(dest, path.basename(s)) : dest, { recursive: true });
    } else if (i.op === 'RUN') {
      execFileSync('bash', ['-euo', 'pipefail', '-c', i.args], { cwd: src, stdio: ['ignore', 'ignore', 'pipe'], timeout: 300_000 });
    }
  }
  const opt = path.join(work, 'opt');
  fs.mkdirSync(opt);
  for (const i of runtime.filter((x) => x.op === 'COPY' && x.args.startsWith('--from=build'))) {
    const [from, to] = i.args.replace(/--\S+\s+/, '').split(/\s+/) as [string, string];
    fs.cpSync(path.join(work, from), path.join(opt, path.basename(to)), { recursive: true });
  }
  assert.ok(!fs.existsSync(path.join(opt, 'node_modules', 'typescript')), 'dev dependencies are pruned');
  const entry = execForm(runtime.find((i) => i.op === 'ENTRYPOINT')!.args);
  const main = entry[entry.length - 1]!.replace('/opt/podwatch', opt);
  const help = spawnSync('node', [main, 'help'], { encoding: 'utf8' });
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /run <service>/);
  const detect = spawnSync('node', [main, 'detect', path.join(root, 'detectors', 'container-exec.positive.ndjson')], { encoding: 'utf8', env: { ...process.env, PODWATCH_CONFIG: '' } });
  assert.equal(detect.status, 0, detect.stderr);
  assert.match(detect.stdout, /"rule":\{"id":"container-exec"/);
  const health = spawnSync('node', [main, 'health'], { encoding: 'utf8', env: { ...process.env, PODWATCH_CONFIG: '' } });
  assert.equal(health.status, 1, 'no service runs: the HEALTHCHECK fails');
  assert.match(health.stderr, /no Podwatch service answers/);
  fs.rmSync(work, { recursive: true, force: true });
});

test('compose.yaml: services, dependencies, volumes and the mounted configuration are consistent', () => {
  const doc = YAML.parse(fs.readFileSync(path.join(deploy, 'compose.yaml'), 'utf8'), { merge: true });
  const services = doc.services as Record<string, any>;
  assert.deepEqual(Object.keys(services).sort(), ['alerter', 'collector', 'detector', 'elasticsearch', 'indexer', 'kafka', 'normalizer', 'scheduler']);
  for (const [name, s] of Object.entries(services)) {
    assert.ok(s.image || s.build, `${name} has an image`);
    for (const dep of Object.keys(s.depends_on ?? {})) assert.ok(services[dep], `${name} depends on ${dep}, which exists`);
    for (const v of s.volumes ?? []) {
      const source = String(v).split(':')[0]!;
      if (source.startsWith('.')) assert.ok(fs.existsSync(path.join(deploy, source)), `${name}: ${source} exists`);
      else if (!source.startsWith('/')) assert.ok(source in (doc.volumes ?? {}), `${name}: volume ${source} is declared`);
    }
    if (s.image === 'localhost/podwatch:latest') {
      assert.equal(s.read_only, true, `${name} has a read-only root filesystem`);
      assert.equal(s.command[0], 'run');
    }
  }
  assert.ok(services.kafka.healthcheck && services.elasticsearch.healthcheck);
  const cfg = parseConfig(YAML.parse(fs.readFileSync(path.join(deploy, 'config', 'podwatch.compose.yaml'), 'utf8')));
  assert.deepEqual(cfg.kafka.brokers, ['kafka:9092']);
  assert.equal(cfg.elasticsearch?.url, 'http://elasticsearch:9200');
});

/** A Quadlet/systemd unit as sections of key=value lines. */
function parseUnit(file: string): Record<string, Array<[string, string]>> {
  const out: Record<string, Array<[string, string]>> = {};
  let section = '';
  fs.readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
    if (/^\s*([#;]|$)/.test(line)) return;
    const sec = /^\[([A-Za-z]+)\]$/.exec(line.trim());
    if (sec) { section = sec[1]!; out[section] = []; return; }
    const kv = /^([A-Za-z][A-Za-z0-9]*)=(.*)$/.exec(line);
    assert.ok(kv && section, `${file}:${i + 1}: expected Key=value inside a section`);
    out[section]!.push([kv[1]!, kv[2]!]);
  });
  return out;
}

// Keys Podman's Quadlet generator accepts in [Container] (podman-systemd.unit(5), Podman 4.6+).
const CONTAINER_KEYS = new Set(['ContainerName', 'Image', 'Exec', 'Environment', 'Secret', 'Volume', 'Network', 'ReadOnly', 'Tmpfs', 'User', 'Group', 'NoNewPrivileges', 'DropCapability', 'AddCapability', 'PublishPort', 'HealthCmd', 'HealthInterval', 'HealthStartPeriod', 'HealthOnFailure', 'HealthRetries', 'HealthTimeout', 'Label', 'PodmanArgs', 'EnvironmentFile', 'AutoUpdate', 'Notify', 'Timezone', 'UserNS']);

test('Quadlet units: known sections and keys, referenced .volume and .network units exist', () => {
  const dir = path.join(deploy, 'quadlet');
  const files = fs.readdirSync(dir);
  assert.deepEqual(files.sort(), ['podwatch.container', 'podwatch.network', 'podwatch.volume']);
  for (const f of files) {
    const unit = parseUnit(path.join(dir, f));
    const kind = { '.container': 'Container', '.network': 'Network', '.volume': 'Volume' }[path.extname(f)]!;
    assert.ok(unit[kind], `${f} has a [${kind}] section`);
    for (const s of Object.keys(unit)) assert.ok(['Unit', 'Service', 'Install', kind].includes(s), `${f}: section [${s}]`);
  }
  const c = parseUnit(path.join(dir, 'podwatch.container')).Container!;
  for (const [k] of c) assert.ok(CONTAINER_KEYS.has(k), `podwatch.container: ${k} is a Quadlet [Container] key`);
  const get = (k: string) => c.filter(([x]) => x === k).map(([, v]) => v);
  assert.deepEqual(get('ReadOnly'), ['true']);
  assert.ok(get('Volume').filter((v) => v.startsWith('/var/log') || v.startsWith('/run/log')).every((v) => v.endsWith(':ro')), 'logs and journal are mounted read-only');
  for (const v of get('Volume').map((x) => x.split(':')[0]!).filter((x) => x.endsWith('.volume'))) assert.ok(files.includes(v), `${v} exists`);
  for (const n of get('Network').filter((x) => x.endsWith('.network'))) assert.ok(files.includes(n), `${n} exists`);
  assert.notEqual(get('User')[0], '0');
});

test('kube manifest: non-root, read-only root filesystem, mounts match volumes, the ConfigMap is a valid configuration', () => {
  const docs = YAML.parseAllDocuments(fs.readFileSync(path.join(deploy, 'kube', 'podwatch.yaml'), 'utf8')).map((d) => d.toJS());
  assert.deepEqual(docs.map((d) => d.kind), ['ConfigMap', 'Pod', 'PersistentVolumeClaim']);
  for (const d of docs) assert.ok(d.apiVersion === 'v1' && d.metadata?.name, `${d.kind} has apiVersion and a name`);
  const pod = docs[1];
  assert.equal(pod.spec.securityContext.runAsNonRoot, true);
  const volumes = new Set(pod.spec.volumes.map((v: { name: string }) => v.name));
  for (const c of pod.spec.containers) {
    assert.equal(c.securityContext.readOnlyRootFilesystem, true);
    for (const m of c.volumeMounts) assert.ok(volumes.has(m.name), `mount ${m.name} has a volume`);
    for (const m of c.volumeMounts.filter((x: { mountPath: string }) => x.mountPath.startsWith('/var/log'))) assert.equal(m.readOnly, true);
  }
  assert.equal(pod.spec.volumes.find((v: any) => v.configMap)?.configMap.name, docs[0].metadata.name);
  const cfg = parseConfig(YAML.parse(docs[0].data['podwatch.yaml']));
  assert.equal(cfg.collector.sources.length, 3);
});
