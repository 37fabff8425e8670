// The endpoint can be named as a server plus --model/--version/--label or as a full TF Serving :predict URL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inferenceUrl, resolveTarget } from '../../src/core/load/target.js';
import { UsageError } from '../../src/core/errors.js';

test('server URL + --model [--version|--label] → TF Serving REST paths', () => {
  const a = resolveTarget('http://host:8501', { model: 'resnet' });
  assert.equal(a.predictUrl.href, 'http://host:8501/v1/models/resnet:predict');
  assert.equal(a.metadataUrl.href, 'http://host:8501/v1/models/resnet/metadata');
  assert.equal(resolveTarget('host:8501', { model: 'm', version: '3' }).predictUrl.href, 'http://host:8501/v1/models/m/versions/3:predict');
  assert.equal(resolveTarget('http://h:1/', { model: 'm', label: 'canary' }).metadataUrl.href, 'http://h:1/v1/models/m/labels/canary/metadata');
});

test('a full :predict URL names the model, version or label itself', () => {
  const t = resolveTarget('http://h:8501/v1/models/half/versions/123:predict', {});
  assert.deepEqual([t.model, t.version, t.label], ['half', '123', undefined]);
  assert.equal(t.metadataUrl.href, 'http://h:8501/v1/models/half/versions/123/metadata');
  assert.equal(resolveTarget('http://h:8501/v1/models/half/labels/stable:predict', {}).label, 'stable');
  assert.equal(resolveTarget('http://h:8501/v1/models/half', {}).predictUrl.href, 'http://h:8501/v1/models/half:predict');
});

test('contradictions and missing pieces are usage errors', () => {
  assert.throws(() => resolveTarget('http://h:1', {}), UsageError, 'no model');
  assert.throws(() => resolveTarget('http://h:1/v1/models/a:predict', { model: 'b' }), UsageError);
  assert.throws(() => resolveTarget('http://h:1', { model: 'm', version: '1', label: 'x' }), UsageError);
  assert.throws(() => resolveTarget('http://h:1', { model: 'm', version: 'latest' }), UsageError);
  assert.throws(() => resolveTarget('http://h:1/somewhere/else', { model: 'm' }), UsageError);
  assert.throws(() => resolveTarget('ftp://h:1', { model: 'm' }), UsageError);
});

test('a full :classify / :regress URL names the verb; inferenceUrl builds any verb\'s URL', () => {
  const t = resolveTarget('http://h:1/v1/models/a/versions/3:regress', {});
  assert.equal(t.verb, 'regress');
  assert.equal(inferenceUrl(t, 'regress').href, 'http://h:1/v1/models/a/versions/3:regress');
  assert.equal(inferenceUrl(t).href, 'http://h:1/v1/models/a/versions/3:predict');
  assert.equal(resolveTarget('http://h:1/v1/models/a:classify', {}).verb, 'classify');
  assert.equal(resolveTarget('http://h:1', { model: 'a' }).verb, undefined);
});
