'use strict';
// Shared by the interop scripts: a failing check ends the run with a readable message.

class CheckFailed extends Error {}

function check(condition, message) {
  if (!condition) throw new CheckFailed(message);
}

function fail(message) {
  console.error(`FAIL: ${message}`);
  process.exit(1);
}

// Runs `body`; any failed check, rejected promise or exception thrown from a callback ends the
// process with status 1 and the message.
function main(body) {
  const die = (e) => {
    if (e instanceof CheckFailed) fail(e.message);
    fail(e && e.stack ? e.stack : String(e));
  };
  process.on('uncaughtException', die);
  process.on('unhandledRejection', die);
  body().then(() => process.exit(0), die);
}

module.exports = { check, fail, main };
