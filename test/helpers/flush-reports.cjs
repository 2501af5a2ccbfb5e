// Each test file runs in a child process that reports to the runner through a pipe. With
// --test-force-exit the child calls process.exit() as soon as its tests end, and on Linux a
// non-blocking pipe can lose the last reports: tests that ran vanish from the counts, failures
// included (nodejs/node#64833). Blocking writes finish before the exit.
const handle = process.stdout._handle;
if (handle && typeof handle.setBlocking === 'function') handle.setBlocking(true);
