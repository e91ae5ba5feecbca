'use strict';
// The AWS SDK for JavaScript v3 (@aws-sdk/client-cognito-sync) calling each of the service's 17
// operations on a running `cogsync serve`, with the outcomes docs/spec.md fixes: §2–§4 for the
// six dataset operations, §11 for the other eleven. Where §11 allows several outcomes (an AMB-
// row), any of them passes; one other than the reference is printed as a note.
//
// Usage: node sdk_v3.js URL [--other-ops required|optional]
//   required (default): each of the eleven must be implemented (the reference server's case).
//   optional: an operation answered with a 4xx of the ERR-1 shape on its first call is
//   reported as not implemented and not checked further (AMB-OTHER-OPERATIONS).
// Exits non-zero with a message on the first wrong answer.

const sync = require('@aws-sdk/client-cognito-sync');
const { check, fail, main } = require('./lib');

const url = process.argv[2];
const modeAt = process.argv.indexOf('--other-ops');
const otherOps = modeAt > 0 ? process.argv[modeAt + 1] : 'required';
if (!url || !['required', 'optional'].includes(otherOps)) {
  fail('usage: node sdk_v3.js URL [--other-ops required|optional]');
}

const client = new sync.CognitoSyncClient({
  region: 'us-east-1',
  endpoint: url,
  credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' },
  maxAttempts: 1,
});

const POOL = 'us-east-1:00000000-0000-4000-8000-0000000000f3';
const POOL_EMPTY = 'us-east-1:00000000-0000-4000-8000-0000000000f4';
const POOL_EVENTS = 'us-east-1:00000000-0000-4000-8000-0000000000f5';
const ID1 = 'us-east-1:00000000-0000-4000-8000-00000000f0f3';
const ID2 = 'us-east-1:00000000-0000-4000-8000-00000000f1f3';
const ID3 = 'us-east-1:00000000-0000-4000-8000-00000000f2f5';
const ID4 = 'us-east-1:00000000-0000-4000-8000-00000000f3f5';
const ROLE = 'arn:aws:iam::123456789012:role/cogsync-interop';
const GCM_APP = 'arn:aws:sns:us-east-1:123456789012:app/GCM/cogsync-interop';
const LAMBDA = 'arn:aws:lambda:us-east-1:123456789012:function:cogsync-interop';

const called = new Set();
const notes = [];
const note = (m) => {
  notes.push(m);
  console.log(`note: ${m}`);
};

async function send(op, input) {
  called.add(op);
  return client.send(new sync[`${op}Command`](input));
}

// The error `op` must answer: one of `names` (shape names) with its ERR-2 status.
const STATUS = {
  InvalidParameterException: 400,
  ValidationException: 400,
  SerializationException: 400,
  LimitExceededException: 400,
  InvalidConfigurationException: 400,
  DuplicateRequestException: 400,
  AlreadyStreamedException: 400,
  NotAuthorizedException: 403,
  ResourceNotFoundException: 404,
  ResourceConflictException: 409,
};
async function refused(op, input, names, what) {
  let answer;
  try {
    answer = await send(op, input);
  } catch (e) {
    const status = e.$metadata && e.$metadata.httpStatusCode;
    check(names.includes(e.name), `${op} ${what}: answered ${status} ${e.name}, not ${names.join(' or ')}`);
    check(status === STATUS[e.name], `${op} ${what}: ${e.name} came with status ${status}, not ${STATUS[e.name]} (ERR-2)`);
    check(typeof e.message === 'string' && e.message.length > 0, `${op} ${what}: the error has no message (ERR-1)`);
    const header = e.$response && e.$response.headers['x-amzn-errortype'];
    check(header && header.split(':')[0] === e.name, `${op} ${what}: x-amzn-ErrorType header is ${header}, not ${e.name} (ERR-1)`);
    return e;
  }
  fail(`${op} ${what}: answered 200 ${JSON.stringify(answer).slice(0, 200)}, not ${names.join(' or ')}`);
}

// Either an answer or the error, for AMB- rows whose outcomes include both.
async function outcome(op, input) {
  try {
    return { ok: await send(op, input) };
  } catch (e) {
    if (!e.$metadata || !e.$metadata.httpStatusCode) throw e;
    return { err: e, status: e.$metadata.httpStatusCode, name: e.name };
  }
}

const epoch = (d) => d.getTime() / 1000;
const ds = (IdentityId, DatasetName) => ({ IdentityPoolId: POOL, IdentityId, DatasetName });

// Every page of a ListRecords, following NextToken; checks LR-4 on the way.
async function listAll(IdentityId, DatasetName, extra = {}, pool = POOL) {
  const records = [];
  const counts = [];
  let NextToken;
  let first;
  do {
    const page = await send('ListRecords', { ...ds(IdentityId, DatasetName), IdentityPoolId: pool, ...extra, NextToken });
    first = first || page;
    counts.push([page.Count, page.Records.length]);
    if (extra.MaxResults) {
      check(page.Records.length <= extra.MaxResults, `ListRecords: a page of ${page.Records.length} records at maxResults ${extra.MaxResults} (LR-4)`);
    }
    check(typeof page.SyncSessionToken === 'string' && page.SyncSessionToken, 'ListRecords: a page without SyncSessionToken (LR-4)');
    for (const r of page.Records) {
      check(!records.some((o) => o.Key === r.Key), `ListRecords: ${r.Key} listed twice across pages (LR-4)`);
    }
    records.push(...page.Records);
    NextToken = page.NextToken;
  } while (NextToken);
  // AMB-COUNT: the page's records (reference) or all of them.
  for (const [count, size] of counts) {
    check(count === size || count === records.length, `ListRecords: Count ${count} is neither the page's ${size} nor the ${records.length} in all (AMB-COUNT)`);
  }
  return { first, records };
}

// A fresh SyncSessionToken for a dataset: a server may spend a token on its first successful
// UpdateRecords (AMB-TOKEN-REUSE), so each write below asks for one.
async function token(IdentityId, DatasetName, pool = POOL) {
  return (await send('ListRecords', { ...ds(IdentityId, DatasetName), IdentityPoolId: pool })).SyncSessionToken;
}

async function datasetOperations() {
  // LR-2: a dataset never written.
  const fresh = await send('ListRecords', ds(ID1, 'prefs'));
  check(fresh.DatasetExists === false, 'ListRecords of a new dataset: DatasetExists is not false (LR-2)');
  check(fresh.DatasetSyncCount === 0 && fresh.Count === 0 && fresh.Records.length === 0, 'ListRecords of a new dataset is not empty at count 0 (LR-2)');

  // UR-1, UR-5, UR-6, UR-9, DATA-3.
  const device = new Date(Math.floor(Date.now() / 1000) * 1000 - 60000);
  const written = await send('UpdateRecords', {
    ...ds(ID1, 'prefs'),
    SyncSessionToken: fresh.SyncSessionToken,
    DeviceId: 'js-v3',
    RecordPatches: [
      { Op: 'replace', Key: 'colour', Value: 'teal', SyncCount: 0, DeviceLastModifiedDate: device },
      { Op: 'replace', Key: 'Colour', Value: 'Teal', SyncCount: 0 },
      { Op: 'replace', Key: 'clé-ñ', Value: 'ü', SyncCount: 0 },
      { Op: 'replace', Key: 'caf\u00e9', Value: 'nfc', SyncCount: 0 },
      { Op: 'replace', Key: 'cafe\u0301', Value: 'nfd', SyncCount: 0 },
      { Op: 'remove', Key: 'ghost', SyncCount: 0 },
    ],
  });
  const byKey = Object.fromEntries(written.Records.map((r) => [r.Key, r]));
  check(written.Records.length === 6, `UpdateRecords listed ${written.Records.length} records, not the 6 patched (UR-5)`);
  check(byKey.colour.Value === 'teal' && byKey.colour.SyncCount === 1, 'UpdateRecords: colour is not teal at SyncCount 1 (DATA-3)');
  check(byKey.Colour.Value === 'Teal', 'UpdateRecords: Colour and colour are not two records (DATA-1)');
  check(byKey['clé-ñ'].Value === 'ü', 'UpdateRecords: the non-ASCII key did not round-trip');
  check(byKey['caf\u00e9']?.Value === 'nfc' && byKey['cafe\u0301']?.Value === 'nfd', 'UpdateRecords: NFC and NFD spellings are not two records (DATA-1)');
  check(byKey.ghost.Value === undefined && byKey.ghost.SyncCount === 1, 'UpdateRecords: the removed key is not a tombstone at SyncCount 1 (UR-5, UR-6)');
  check(epoch(byKey.colour.DeviceLastModifiedDate) === epoch(device), 'UpdateRecords: DeviceLastModifiedDate not echoed (UR-9)');
  check(byKey.colour.LastModifiedDate instanceof Date && !isNaN(byKey.colour.LastModifiedDate), 'UpdateRecords: LastModifiedDate is not a date (ERR-4)');

  // UR-2, UR-3: stale, higher and unchanged-but-stale counts conflict; nothing is applied.
  const conflict = await refused('UpdateRecords', {
    ...ds(ID1, 'prefs'), SyncSessionToken: await token(ID1, 'prefs'),
    RecordPatches: [
      { Op: 'replace', Key: 'fresh-key', Value: 'v', SyncCount: 0 },
      { Op: 'replace', Key: 'colour', Value: 'red', SyncCount: 0 },
    ],
  }, ['ResourceConflictException'], 'with a stale SyncCount');
  check(/Current SyncCount for: colour is: 1 not: 0/.test(conflict.message), `UpdateRecords conflict message: ${conflict.message} (UR-2)`);
  await refused('UpdateRecords', {
    ...ds(ID1, 'prefs'), SyncSessionToken: await token(ID1, 'prefs'),
    RecordPatches: [{ Op: 'replace', Key: 'colour', Value: 'red', SyncCount: 5 }],
  }, ['ResourceConflictException'], 'with a higher SyncCount');
  await refused('UpdateRecords', {
    ...ds(ID1, 'prefs'), SyncSessionToken: await token(ID1, 'prefs'),
    RecordPatches: [{ Op: 'replace', Key: 'colour', Value: 'teal', SyncCount: 0 }],
  }, ['ResourceConflictException'], 'with a stale SyncCount and the same value');
  // UR-8: tokens.
  await refused('UpdateRecords', { ...ds(ID1, 'prefs'), SyncSessionToken: 'garbage', RecordPatches: [] },
    ['InvalidParameterException'], 'with a garbage token');
  const other = await send('ListRecords', ds(ID1, 'other'));
  await refused('UpdateRecords', {
    ...ds(ID1, 'prefs'), SyncSessionToken: other.SyncSessionToken,
    RecordPatches: [{ Op: 'replace', Key: 'colour', Value: 'red', SyncCount: 1 }],
  }, ['InvalidParameterException'], "with another dataset's token");
  await refused('UpdateRecords', {
    ...ds(ID1, 'prefs'), RecordPatches: [{ Op: 'replace', Key: 'colour', Value: 'red', SyncCount: 1 }],
  }, ['InvalidParameterException', 'ValidationException'], 'without a token');

  // LR-1, LR-3, LR-4, UR-3.
  const all = await listAll(ID1, 'prefs');
  const keys = all.records.map((r) => r.Key).sort();
  const expected = ['Colour', 'clé-ñ', 'colour', 'ghost', 'caf\u00e9', 'cafe\u0301'].sort();
  check(keys.join() === expected.join(), `ListRecords holds ${keys} (UR-3, UR-6)`);
  check(all.first.DatasetSyncCount === 1 && all.first.DatasetExists === true, 'ListRecords: not DatasetSyncCount 1, DatasetExists true');
  for (const MaxResults of [1, 2]) {
    const paged = await listAll(ID1, 'prefs', { MaxResults });
    check(paged.records.length === 6, `ListRecords in pages of ${MaxResults} yielded ${paged.records.length} of the 6 records (LR-4)`);
  }
  const second = await send('UpdateRecords', {
    ...ds(ID1, 'prefs'), SyncSessionToken: all.first.SyncSessionToken,
    RecordPatches: [{ Op: 'replace', Key: 'size', Value: 'M', SyncCount: 0 }],
  });
  check(second.Records[0].SyncCount === 2, 'UpdateRecords: the second write is not at SyncCount 2 (DATA-3)');
  const since = await send('ListRecords', { ...ds(ID1, 'prefs'), LastSyncCount: 1 });
  check(since.Records.map((r) => r.Key).join() === 'size', `ListRecords lastSyncCount=1 gave ${since.Records.map((r) => r.Key)}, not size (LR-1)`);
  await refused('ListRecords', { ...ds(ID1, 'prefs'), LastSyncCount: 3 }, ['InvalidParameterException'], 'with lastSyncCount ahead (LR-3)');

  // DS-1, DS-2, DS-5.
  const described = (await send('DescribeDataset', ds(ID1, 'prefs'))).Dataset;
  const storage = Buffer.byteLength('colourtealColourTealclé-ñücaf\u00e9nfccafe\u0301nfdsizeM', 'utf8');
  check(described.NumRecords === 6 && described.DataStorage === storage, `DescribeDataset: NumRecords ${described.NumRecords}, DataStorage ${described.DataStorage}, not 6 and ${storage} (DS-1, LIM-3)`);
  check(described.LastModifiedDate >= described.CreationDate, 'DescribeDataset: LastModifiedDate before CreationDate (DS-1)');
  await refused('DescribeDataset', ds(ID1, 'never'), ['ResourceNotFoundException'], 'of a dataset never written (DS-1)');
  for (const [name, key, value] of [['scores', 'best', '42'], ['Scores', 'Best', '43']]) {
    await send('UpdateRecords', {
      ...ds(ID2, name), SyncSessionToken: await token(ID2, name),
      RecordPatches: [{ Op: 'replace', Key: key, Value: value, SyncCount: 0 }],
    });
  }
  const names2 = (await send('ListDatasets', { IdentityPoolId: POOL, IdentityId: ID2 })).Datasets.map((d) => d.DatasetName).sort();
  check(names2.join() === 'Scores,scores', `ListDatasets of identity 2: ${names2}, not Scores and scores (DATA-1)`);
  await refused('ListRecords', ds(ID2.toUpperCase().replace('US-EAST-1', 'us-east-1'), 'scores'),
    ['ValidationException', 'InvalidParameterException'], 'with upper-case hex in IdentityId (VAL-1)');
  const listed = await send('ListDatasets', { IdentityPoolId: POOL, IdentityId: ID1 });
  check(listed.Datasets.map((d) => d.DatasetName).join() === 'prefs', `ListDatasets of identity 1: ${listed.Datasets.map((d) => d.DatasetName)} (DS-2)`);
  const usage = (await send('DescribeIdentityUsage', { IdentityPoolId: POOL, IdentityId: ID1 })).IdentityUsage;
  check(usage.DatasetCount === 1 && usage.DataStorage === storage, `DescribeIdentityUsage: ${usage.DatasetCount} datasets, ${usage.DataStorage} bytes (DS-5)`);

  // DS-3, DS-4.
  await send('UpdateRecords', {
    ...ds(ID1, 'doomed'), SyncSessionToken: (await send('ListRecords', ds(ID1, 'doomed'))).SyncSessionToken,
    RecordPatches: [{ Op: 'replace', Key: 'old', Value: 'x', SyncCount: 0 }],
  });
  const deleted = (await send('DeleteDataset', ds(ID1, 'doomed'))).Dataset;
  check(deleted && deleted.DatasetName === 'doomed' && deleted.NumRecords === 1, 'DeleteDataset did not answer the metadata as it was (DS-3)');
  await refused('DescribeDataset', ds(ID1, 'doomed'), ['ResourceNotFoundException'], 'of a deleted dataset (DS-1)');
  await refused('DeleteDataset', ds(ID1, 'doomed'), ['ResourceNotFoundException'], 'of a deleted dataset (DS-3)');
  const after = await send('ListRecords', { ...ds(ID1, 'doomed'), LastSyncCount: 1 });
  check(after.DatasetDeletedAfterRequestedSyncCount === true || after.DatasetExists === false, 'ListRecords(1) after the delete: neither flag (DS-4)');
  check(after.Records.length === 0, 'ListRecords after the delete still lists records (DS-3)');
  await send('UpdateRecords', {
    ...ds(ID1, 'doomed'), SyncSessionToken: after.SyncSessionToken,
    RecordPatches: [{ Op: 'replace', Key: 'reborn', Value: 'yes', SyncCount: 0 }],
  });
  const resurrected = await send('ListRecords', { ...ds(ID1, 'doomed'), LastSyncCount: 1 });
  check(resurrected.DatasetDeletedAfterRequestedSyncCount === true, 'ListRecords(1) after delete and re-create: no DatasetDeletedAfterRequestedSyncCount (DS-4)');
  const reborn = resurrected.Records.map((r) => `${r.Key}=${r.Value}`).join();
  check(reborn === 'reborn=yes', `ListRecords(1) after delete and re-create holds ${reborn}, not only reborn=yes (DS-3, DS-4)`);
  const everything = (await listAll(ID1, 'doomed')).records.map((r) => r.Key).join();
  check(everything === 'reborn', `the re-created dataset holds ${everything}, not only reborn (DS-3)`);
  console.log('dataset operations: ListRecords, UpdateRecords, DescribeDataset, ListDatasets, DescribeIdentityUsage and DeleteDataset answered as §2–§4 require');
  return storage + Buffer.byteLength('best42Best43') + Buffer.byteLength('rebornyes');
}

// More of §2–§4, in a pool of its own so the usage figures above stay simple.
async function datasetEdges() {
  const at = (name) => ({ IdentityPoolId: POOL_EVENTS, IdentityId: ID3, DatasetName: name });
  const write = async (name, RecordPatches) =>
    send('UpdateRecords', { ...at(name), SyncSessionToken: await token(ID3, name, POOL_EVENTS), RecordPatches });
  // UR-6, UR-7, DATA-3: a remove-only write bumps the counter; the tombstone's count re-writes.
  // AMB-LIST-TOKEN: ListRecords accepts a token an UpdateRecords has used (iOS retries so).
  const spent = await token(ID3, 'edges', POOL_EVENTS);
  await send('UpdateRecords', { ...at('edges'), SyncSessionToken: spent, RecordPatches: [{ Op: 'replace', Key: 'k', Value: 'v', SyncCount: 0 }] });
  const relisted = await outcome('ListRecords', { ...at('edges'), SyncSessionToken: spent });
  check(relisted.ok, `ListRecords with a token an UpdateRecords used: ${relisted.status} ${relisted.name} (AMB-LIST-TOKEN)`);
  const removed = await write('edges', [{ Op: 'remove', Key: 'k', SyncCount: 1 }]);
  check(removed.Records[0].SyncCount === 2, `a remove-only UpdateRecords gave the tombstone SyncCount ${removed.Records[0].SyncCount}, not 2 (DATA-3)`);
  const again = await write('edges', [{ Op: 'replace', Key: 'k', Value: 'back', SyncCount: 2 }]);
  check(again.Records[0].SyncCount === 3, 'writing a removed key with its tombstone count did not give SyncCount 3 (UR-7)');
  // VAL-1: a key of 1,024 characters is fine, 1,025 is not.
  await write('edges', [{ Op: 'replace', Key: 'x'.repeat(1024), Value: 'long', SyncCount: 0 }]);
  await refused('UpdateRecords', {
    ...at('edges'), SyncSessionToken: await token(ID3, 'edges', POOL_EVENTS),
    RecordPatches: [{ Op: 'replace', Key: 'x'.repeat(1025), Value: 'long', SyncCount: 0 }],
  }, ['ValidationException', 'InvalidParameterException'], 'with a key of 1,025 characters (VAL-1)');
  // LR-4: without maxResults one page holds every record up to 1,024.
  const many = [];
  for (let i = 0; i < 150; i++) many.push({ Op: 'replace', Key: `many-${i}`, Value: `${i}`, SyncCount: 0 });
  await write('many', many);
  const whole = await send('ListRecords', at('many'));
  check(whole.Records.length === 150 && !whole.NextToken, `ListRecords without maxResults gave ${whole.Records.length} of 150 records in its first page (LR-4)`);
  // UR-2, UR-3: in each of 20 rounds, 16 writers of one SyncCount at once; exactly one wins.
  await write('race', [{ Op: 'replace', Key: 'r', Value: 'start', SyncCount: 0 }]);
  for (let round = 1; round <= 20; round++) {
    const tokens = await Promise.all([...Array(16)].map(() => token(ID3, 'race', POOL_EVENTS)));
    const results = await Promise.all(tokens.map((t, i) => outcome('UpdateRecords', {
      ...at('race'), SyncSessionToken: t, RecordPatches: [{ Op: 'replace', Key: 'r', Value: `writer ${i}`, SyncCount: round }],
    })));
    const won = results.filter((o) => o.ok).length;
    check(won === 1, `${won} of 16 concurrent writers of one SyncCount succeeded, not 1 (UR-2)`);
    check(results.every((o) => o.ok || o.status === 409), `a concurrent writer got ${results.find((o) => !o.ok && o.status !== 409)?.name}, not 409`);
  }
  // DS-1: a remove-only write made later moves LastModifiedDate forward (past a whole second,
  // as an endpoint may send whole epoch seconds).
  const before = (await send('DescribeDataset', at('edges'))).Dataset.LastModifiedDate;
  await new Promise((r) => setTimeout(r, 1100));
  await write('edges', [{ Op: 'remove', Key: 'k', SyncCount: 3 }]);
  const after = (await send('DescribeDataset', at('edges'))).Dataset.LastModifiedDate;
  check(after > before, 'a remove-only UpdateRecords did not move the dataset\'s LastModifiedDate forward (DS-1)');
  // LIM-2: 1,024 live records fit; the 1,025th is refused.
  const full = [];
  for (let i = 0; i < 1024; i++) full.push({ Op: 'replace', Key: `r${i}`, Value: 'v', SyncCount: 0 });
  await write('full', full);
  await refused('UpdateRecords', {
    ...at('full'), SyncSessionToken: await token(ID3, 'full', POOL_EVENTS),
    RecordPatches: [{ Op: 'replace', Key: 'r1024', Value: 'v', SyncCount: 0 }],
  }, ['LimitExceededException'], 'for a 1,025th record (LIM-2)');
  // LIM-1: 20 datasets fit; the write that would create the 21st is refused.
  const mine = { IdentityPoolId: POOL_EVENTS, IdentityId: ID4 };
  for (let i = 0; i < 20; i++) {
    const DatasetName = `d${i}`;
    await send('UpdateRecords', {
      ...mine, DatasetName, SyncSessionToken: await token(ID4, DatasetName, POOL_EVENTS),
      RecordPatches: [{ Op: 'replace', Key: 'k', Value: 'v', SyncCount: 0 }],
    });
  }
  await refused('UpdateRecords', {
    ...mine, DatasetName: 'd20', SyncSessionToken: await token(ID4, 'd20', POOL_EVENTS),
    RecordPatches: [{ Op: 'replace', Key: 'k', Value: 'v', SyncCount: 0 }],
  }, ['LimitExceededException'], 'creating a 21st dataset (LIM-1)');
  console.log('dataset edges: remove-only bumps, tombstone re-writes, key lengths, the unpaged page, a write race, LastModifiedDate and the record and dataset limits as §2–§6 require');
}

// The first call of one of the eleven: its answer, or null when the operation is not
// implemented (a 4xx of the ERR-1 shape, allowed only with --other-ops optional).
const missing = new Set();
// Operations called but not checked because one they depend on is not implemented.
const skipped = new Set();
async function first(op, input) {
  const o = await outcome(op, input);
  if (o.ok) return o.ok;
  check(o.status >= 400 && o.status < 500, `${op}: first call answered ${o.status} ${o.name} (ERR-3)`);
  if (otherOps === 'required') fail(`${op}: answered ${o.status} ${o.name}: ${o.err.message}; the reference server implements it (§11)`);
  missing.add(op);
  note(`${op} is not implemented (${o.status} ${o.name}); its checks are skipped`);
  return null;
}

async function poolUsage(storageBefore) {
  // A dataset deleted outright no longer counts.
  await send('DeleteDataset', ds(ID2, 'Scores'));
  const expectedStorage = storageBefore - Buffer.byteLength('Best43');
  // POOL-1, AMB-USAGE-LAG: exact within 10 s.
  let usage;
  for (let waited = 0; ; waited += 250) {
    const answer = await first('DescribeIdentityPoolUsage', { IdentityPoolId: POOL });
    if (!answer) {
      await first('ListIdentityPoolUsage', {});
      return;
    }
    usage = answer.IdentityPoolUsage;
    if (usage.DataStorage === expectedStorage || waited >= 10000) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  check(usage.IdentityPoolId === POOL, 'DescribeIdentityPoolUsage: wrong IdentityPoolId');
  check(usage.DataStorage === expectedStorage, `DescribeIdentityPoolUsage: DataStorage ${usage.DataStorage}, not the identities' ${expectedStorage} (POOL-1)`);
  const latest = Math.max(
    ...(await Promise.all([ID1, ID2].map((IdentityId) => send('DescribeIdentityUsage', { IdentityPoolId: POOL, IdentityId })))).map((u) =>
      epoch(u.IdentityUsage.LastModifiedDate)),
  );
  check(epoch(usage.LastModifiedDate) === latest, `DescribeIdentityPoolUsage: LastModifiedDate ${usage.LastModifiedDate.toISOString()} is not the latest identity's (POOL-1)`);
  check(Number.isInteger(usage.SyncSessionsCount) && usage.SyncSessionsCount >= 0, 'DescribeIdentityPoolUsage: SyncSessionsCount is not a non-negative integer (POOL-1)');
  await send('ListRecords', ds(ID1, 'prefs'));
  const later = (await send('DescribeIdentityPoolUsage', { IdentityPoolId: POOL })).IdentityPoolUsage;
  check(later.SyncSessionsCount >= usage.SyncSessionsCount, 'DescribeIdentityPoolUsage: SyncSessionsCount went down (POOL-1)');
  const empty = await outcome('DescribeIdentityPoolUsage', { IdentityPoolId: POOL_EMPTY });
  if (empty.ok) {
    const u = empty.ok.IdentityPoolUsage;
    check(u.DataStorage === 0 && u.SyncSessionsCount === 0, 'DescribeIdentityPoolUsage of an empty pool: figures not zero (AMB-POOL-EMPTY)');
  } else {
    check(empty.name === 'ResourceNotFoundException' && empty.status === 404, `DescribeIdentityPoolUsage of an empty pool: ${empty.status} ${empty.name} (AMB-POOL-EMPTY)`);
    note('DescribeIdentityPoolUsage of an empty pool: 404, not the reference 200 with zeros (AMB-POOL-EMPTY)');
  }

  // POOL-2: pages of 1; every pool with data exactly once, with DescribeIdentityPoolUsage's figures.
  const seen = new Map();
  let NextToken;
  let firstPage = true;
  do {
    const page = firstPage
      ? await first('ListIdentityPoolUsage', { MaxResults: 1 })
      : await send('ListIdentityPoolUsage', { MaxResults: 1, NextToken });
    if (!page) return;
    firstPage = false;
    check(page.Count === page.IdentityPoolUsages.length && page.Count <= 1, `ListIdentityPoolUsage: Count ${page.Count} for a page of ${page.IdentityPoolUsages.length} at MaxResults 1 (POOL-2)`);
    for (const u of page.IdentityPoolUsages) {
      check(!seen.has(u.IdentityPoolId), `ListIdentityPoolUsage: ${u.IdentityPoolId} listed twice (POOL-2)`);
      seen.set(u.IdentityPoolId, u);
    }
    NextToken = page.NextToken;
  } while (NextToken);
  const mine = seen.get(POOL);
  check(mine, 'ListIdentityPoolUsage: the pool with data is not listed (POOL-2)');
  check(mine.DataStorage === later.DataStorage && epoch(mine.LastModifiedDate) === epoch(later.LastModifiedDate), 'ListIdentityPoolUsage: figures differ from DescribeIdentityPoolUsage (POOL-2)');
  check(!seen.has(POOL_EMPTY), 'ListIdentityPoolUsage lists a pool that holds nothing (POOL-2)');
  check(seen.has(POOL_EVENTS), 'ListIdentityPoolUsage in pages of 1 misses one of the two pools with data (POOL-2)');
  console.log(`pool usage: DescribeIdentityPoolUsage and ListIdentityPoolUsage (${seen.size} pools in pages of 1) agree with the identities (POOL-1, POOL-2)`);
}

function sameConfig(a, b) {
  const pick = (c) => JSON.stringify({ PushSync: c.PushSync, CognitoStreams: c.CognitoStreams });
  return pick(a) === pick(b);
}

async function configuration() {
  // CFG-2 on a pool with data and no configuration.
  const before = await first('GetIdentityPoolConfiguration', { IdentityPoolId: POOL });
  if (before) {
    check(before.IdentityPoolId === POOL && !before.PushSync && !before.CognitoStreams, 'GetIdentityPoolConfiguration of a pool never configured has sections (CFG-2)');
  }
  const pushSync = { ApplicationArns: [GCM_APP], RoleArn: ROLE };
  const set = await first('SetIdentityPoolConfiguration', { IdentityPoolId: POOL, PushSync: pushSync });
  if (!set || !before) return false;
  check(set.IdentityPoolId === POOL && JSON.stringify(set.PushSync) === JSON.stringify(pushSync), `SetIdentityPoolConfiguration answered ${JSON.stringify(set.PushSync)} (CFG-1)`);
  const streams = { StreamName: 'cogsync-interop', RoleArn: ROLE, StreamingStatus: 'ENABLED' };
  const merged = await send('SetIdentityPoolConfiguration', { IdentityPoolId: POOL, CognitoStreams: streams });
  check(JSON.stringify(merged.CognitoStreams) === JSON.stringify(streams), 'SetIdentityPoolConfiguration: CognitoStreams not stored (CFG-1)');
  if (!merged.PushSync) note('SetIdentityPoolConfiguration without PushSync cleared it, not the reference "kept" (AMB-CONFIG-MERGE)');
  else check(JSON.stringify(merged.PushSync) === JSON.stringify(pushSync), 'SetIdentityPoolConfiguration changed the PushSync it was not sent (CFG-1)');
  const got = await send('GetIdentityPoolConfiguration', { IdentityPoolId: POOL });
  check(sameConfig(got, merged), `GetIdentityPoolConfiguration ${JSON.stringify(got)} is not what Set stored (CFG-2)`);
  // VAL-1: bad values change nothing.
  await refused('SetIdentityPoolConfiguration', { IdentityPoolId: POOL, CognitoStreams: { ...streams, StreamingStatus: 'SOMETIMES' } },
    ['ValidationException', 'InvalidParameterException'], 'with a bad StreamingStatus');
  await refused('SetIdentityPoolConfiguration', { IdentityPoolId: POOL, PushSync: { ApplicationArns: ['arn:aws:sns:us-east-1:1:topic'] } },
    ['ValidationException', 'InvalidParameterException'], 'with a bad ApplicationArn');
  await refused('SetIdentityPoolConfiguration', { IdentityPoolId: POOL, PushSync: { RoleArn: 'arn:aws:iam::1:user/x' } },
    ['ValidationException', 'InvalidParameterException'], 'with a bad RoleArn');
  const unchanged = await send('GetIdentityPoolConfiguration', { IdentityPoolId: POOL });
  check(sameConfig(unchanged, merged), 'a refused SetIdentityPoolConfiguration changed the configuration (VAL-1)');
  if (!merged.PushSync) await send('SetIdentityPoolConfiguration', { IdentityPoolId: POOL, PushSync: pushSync, CognitoStreams: streams });
  console.log('configuration: Set/GetIdentityPoolConfiguration store, merge and refuse as CFG-1, CFG-2 say');
  return true;
}

async function events() {
  const none = await first('GetCognitoEvents', { IdentityPoolId: POOL_EVENTS });
  if (none) check(Object.keys(none.Events || {}).length === 0, 'GetCognitoEvents of a pool without events is not {} (EVT-1)');
  const set = await first('SetCognitoEvents', { IdentityPoolId: POOL_EVENTS, Events: { SyncTrigger: LAMBDA } });
  if (set === null || missing.has('GetCognitoEvents')) return;
  const got = await send('GetCognitoEvents', { IdentityPoolId: POOL_EVENTS });
  check(got.Events && got.Events.SyncTrigger === LAMBDA, `GetCognitoEvents: ${JSON.stringify(got.Events)}, not the SyncTrigger set (EVT-1)`);
  const other = await outcome('SetCognitoEvents', { IdentityPoolId: POOL_EVENTS, Events: { SomethingElse: LAMBDA } });
  if (other.ok) note('SetCognitoEvents stored an event type other than SyncTrigger (AMB-EVENT-TYPE)');
  else check(other.status === 400 && ['InvalidParameterException', 'ValidationException'].includes(other.name), `SetCognitoEvents with another event type: ${other.status} ${other.name} (AMB-EVENT-TYPE)`);
  const kept = await send('GetCognitoEvents', { IdentityPoolId: POOL_EVENTS });
  check(kept.Events.SyncTrigger === LAMBDA, 'SetCognitoEvents of another key changed SyncTrigger (EVT-1)');
  await send('SetCognitoEvents', { IdentityPoolId: POOL_EVENTS, Events: {} });
  const untouched = await send('GetCognitoEvents', { IdentityPoolId: POOL_EVENTS });
  check(untouched.Events.SyncTrigger === LAMBDA, 'SetCognitoEvents with no keys changed SyncTrigger (EVT-1: only the keys sent change)');
  await send('SetCognitoEvents', { IdentityPoolId: POOL_EVENTS, Events: { SyncTrigger: '' } });
  const cleared = await send('GetCognitoEvents', { IdentityPoolId: POOL_EVENTS });
  check(!('SyncTrigger' in (cleared.Events || {})), `SetCognitoEvents with an empty value left ${JSON.stringify(cleared.Events)}, not {} (EVT-1)`);
  console.log('events: Set/GetCognitoEvents set, keep and clear SyncTrigger (EVT-1)');
}

async function devices(configured) {
  const register = { IdentityPoolId: POOL, IdentityId: ID1, Platform: 'GCM', Token: 'interop-token-1' };
  if (!configured) {
    for (const op of ['RegisterDevice', 'SubscribeToDataset', 'UnsubscribeFromDataset']) {
      await outcome(op, { ...register, DatasetName: 'prefs', DeviceId: 'no-such-device' });
    }
    ['RegisterDevice', 'SubscribeToDataset', 'UnsubscribeFromDataset'].forEach((op) => skipped.add(op));
    note('RegisterDevice, SubscribeToDataset and UnsubscribeFromDataset called but not checked: no pool configuration to register against');
    return;
  }
  const registered = await first('RegisterDevice', register);
  if (!registered) {
    for (const op of ['SubscribeToDataset', 'UnsubscribeFromDataset']) {
      await outcome(op, { ...register, DatasetName: 'prefs', DeviceId: 'no-such-device' });
      skipped.add(op);
    }
    return;
  }
  // AMB-PUSH-CONFIG, on a pool with no push configuration.
  const unconfigured = await outcome('RegisterDevice', { ...register, IdentityPoolId: POOL_EVENTS });
  if (unconfigured.ok) note('RegisterDevice without a push configuration answered 200 (AMB-PUSH-CONFIG)');
  else check(unconfigured.status === 400 && unconfigured.name === 'InvalidConfigurationException', `RegisterDevice without a push configuration: ${unconfigured.status} ${unconfigured.name} (AMB-PUSH-CONFIG)`);
  const id = registered.DeviceId;
  check(typeof id === 'string' && id.length >= 1 && id.length <= 256, `RegisterDevice: DeviceId ${id} (DEV-1)`);
  const again = await send('RegisterDevice', register);
  if (again.DeviceId !== id) note('RegisterDevice again gave a new DeviceId (AMB-DEVICE-ID)');
  await refused('RegisterDevice', { ...register, Platform: 'PAGER' }, ['ValidationException', 'InvalidParameterException'], 'with an unknown Platform');
  const sub = { IdentityPoolId: POOL, IdentityId: ID1, DatasetName: 'prefs', DeviceId: id };
  if (!(await first('SubscribeToDataset', sub))) {
    await outcome('UnsubscribeFromDataset', sub);
    skipped.add('UnsubscribeFromDataset');
    return;
  }
  await send('SubscribeToDataset', { ...sub, DatasetName: 'not-yet-written' });
  const twice = await outcome('SubscribeToDataset', sub);
  check(twice.ok, `SubscribeToDataset twice: ${twice.status} ${twice.name} (DEV-2)`);
  for (const [what, input] of [
    ['with a DeviceId never registered', { ...sub, DeviceId: 'no-such-device' }],
    ["with another identity's DeviceId", { ...sub, IdentityId: ID2 }],
  ]) {
    const o = await outcome('SubscribeToDataset', input);
    check(!o.ok, `SubscribeToDataset ${what} answered 200 (DEV-2)`);
    check(o.status === 404 || (o.status === 400 && ['InvalidParameterException', 'ValidationException'].includes(o.name)), `SubscribeToDataset ${what}: ${o.status} ${o.name} (AMB-DEVICE-UNKNOWN)`);
  }
  if (!(await first('UnsubscribeFromDataset', sub))) return;
  const notSubscribed = await outcome('UnsubscribeFromDataset', sub);
  if (!notSubscribed.ok) {
    check(notSubscribed.status === 404, `UnsubscribeFromDataset when not subscribed: ${notSubscribed.status} ${notSubscribed.name} (AMB-SUBSCRIBE-IDEMPOTENT)`);
    note('UnsubscribeFromDataset when not subscribed answered 404 (AMB-SUBSCRIBE-IDEMPOTENT)');
  }
  const unknown = await outcome('UnsubscribeFromDataset', { ...sub, DeviceId: 'no-such-device' });
  check(unknown.status === 404 || unknown.status === 400, `UnsubscribeFromDataset with a DeviceId never registered: ${unknown.status || 200} (AMB-DEVICE-UNKNOWN)`);
  console.log('devices: RegisterDevice, SubscribeToDataset and UnsubscribeFromDataset as DEV-1, DEV-2 say');
}

async function bulkPublish(configured) {
  // BULK-2 before any: NOT_STARTED. BULK-1 without a stream: AMB-BULK-NO-STREAM.
  const details = await first('GetBulkPublishDetails', { IdentityPoolId: POOL });
  if (details) check(details.BulkPublishStatus === 'NOT_STARTED', `GetBulkPublishDetails before any: ${details.BulkPublishStatus} (BULK-2)`);
  if (!configured) {
    await outcome('BulkPublish', { IdentityPoolId: POOL_EVENTS });
    skipped.add('BulkPublish');
    note('BulkPublish called but not checked: no pool configuration with a stream');
    return;
  }
  const published = await first('BulkPublish', { IdentityPoolId: POOL });
  if (!published) return;
  const started = Date.now() / 1000;
  const noStream = await outcome('BulkPublish', { IdentityPoolId: POOL_EVENTS });
  check(!noStream.ok, 'BulkPublish of a pool without a stream answered 200 (BULK-1)');
  check((noStream.status === 400 && ['InvalidParameterException', 'InvalidConfigurationException'].includes(noStream.name)) || noStream.status === 404,
    `BulkPublish without a stream: ${noStream.status} ${noStream.name} (AMB-BULK-NO-STREAM)`);
  check(published.IdentityPoolId === POOL, 'BulkPublish: wrong IdentityPoolId (BULK-1)');
  if (missing.has('GetBulkPublishDetails')) return;
  let status = await send('GetBulkPublishDetails', { IdentityPoolId: POOL });
  check(['IN_PROGRESS', 'SUCCEEDED', 'FAILED'].includes(status.BulkPublishStatus), `GetBulkPublishDetails after BulkPublish: ${status.BulkPublishStatus} (BULK-2)`);
  check(status.BulkPublishStartTime && Math.abs(epoch(status.BulkPublishStartTime) - started) < 5, 'GetBulkPublishDetails: BulkPublishStartTime is not the request time (BULK-2)');
  const dup = await refused('BulkPublish', { IdentityPoolId: POOL }, ['DuplicateRequestException', 'AlreadyStreamedException'], 'right after one');
  const expectedDup = status.BulkPublishStatus === 'IN_PROGRESS' ? 'DuplicateRequestException' : 'AlreadyStreamedException';
  if (status.BulkPublishStatus !== 'FAILED') check(dup.name === expectedDup, `BulkPublish while ${status.BulkPublishStatus}: ${dup.name}, not ${expectedDup} (BULK-1)`);
  // AMB-BULK-TIME: the reference takes 2 s; any time is allowed, so give up waiting after 5 s.
  for (let waited = 0; status.BulkPublishStatus === 'IN_PROGRESS' && waited < 5000; waited += 250) {
    await new Promise((r) => setTimeout(r, 250));
    status = await send('GetBulkPublishDetails', { IdentityPoolId: POOL });
  }
  if (status.BulkPublishStatus === 'IN_PROGRESS') {
    note('the bulk publish was still IN_PROGRESS after 5 s (AMB-BULK-TIME); its end is not checked');
  } else {
    check(status.BulkPublishStatus === 'SUCCEEDED', `the bulk publish ended ${status.BulkPublishStatus}: ${status.FailureMessage}`);
    check(status.BulkPublishCompleteTime && status.BulkPublishCompleteTime >= status.BulkPublishStartTime, 'GetBulkPublishDetails: no BulkPublishCompleteTime after the start (BULK-2)');
    await refused('BulkPublish', { IdentityPoolId: POOL }, ['AlreadyStreamedException'], 'within 24 h of one that succeeded');
  }
  console.log(`bulk publish: BulkPublish and GetBulkPublishDetails went NOT_STARTED → ${status.BulkPublishStatus} (BULK-1, BULK-2)`);
}

main(async () => {
  const storage = await datasetOperations();
  await datasetEdges();
  await poolUsage(storage);
  const configured = await configuration();
  await events();
  await devices(configured);
  await bulkPublish(configured);
  const all = Object.keys(sync).filter((k) => /^[A-Z]\w*Command$/.test(k)).map((k) => k.slice(0, -7));
  const uncalled = all.filter((op) => !called.has(op));
  check(all.length === 17 && uncalled.length === 0, `operations of the client not called: ${uncalled.join(', ')} (of ${all.length})`);
  const checked = all.length - missing.size - skipped.size;
  const unchecked = missing.size ? `, ${missing.size} not implemented by this server, ${skipped.size} not checked for want of them` : '';
  console.log(`@aws-sdk/client-cognito-sync: all 17 operations called, ${checked} checked${unchecked}${notes.length ? `, ${notes.length} notes` : ''}`);
});
