// Imported first by the CLI entry (lib/cli/bin.mjs, the launcher, sets the same value; keep the two in step). fs
// calls run on libuv's thread pool, 4 threads by default. A small message sends two calls there (the open of its
// temp file and its fsync; lib/store/fs-staged.ts makes the page-cache calls directly) and up to 32 commits overlap,
// so 4 threads would serialize the fsyncs; concurrent fsyncs share one journal commit. Measured on ext4 (2 vCPUs):
// 8 to 16 threads give the cheapest fsyncs (0.13 ms each, against 1 to 5 ms one at a time and 0.25 ms with 64), and
// 64 threads only add scheduling and memory. Must be set before the pool first starts.
process.env.UV_THREADPOOL_SIZE ??= '16';
