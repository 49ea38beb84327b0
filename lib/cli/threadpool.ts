// Imported first by the CLI entry. Every fs call (write, fsync, link, rename) runs on libuv's threadpool, 4 threads
// by default: with commits overlapping, durable storage of small messages is limited by it, not by the disk
// (concurrent fsyncs share one journal commit). Must be set before the pool first starts.
process.env.UV_THREADPOOL_SIZE ??= '64';
