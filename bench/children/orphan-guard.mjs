// Preloaded into every process the benchmark spawns (`node --import ./bench/children/orphan-guard.mjs …`):
// if the benchmark driver dies without cleaning up (kill -9), its children notice that their parent
// changed and stop themselves: SIGTERM first (the gateway and the simulator shut down gracefully on
// it), then a hard exit 10 s later if that did not end the process.
const parent = process.ppid;
const timer = setInterval(() => {
  if (process.ppid === parent) return;
  clearInterval(timer);
  process.kill(process.pid, 'SIGTERM');
  setTimeout(() => process.exit(1), 10_000).unref();
}, 1000);
timer.unref();
