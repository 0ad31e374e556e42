// Preloaded into the fault suite's gateway child processes (`node --import`): the gateway exits as
// soon as the test process that started it is gone (killed with SIGKILL, crashed, timed out),
// instead of living on as an orphan that holds its port and database connections.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.kill(process.pid, 'SIGKILL');
}, 500).unref();
