/**
 * The floor of backup.rpoSeconds (archive_timeout). Measured (docs/benchmarks.md, RPO): at
 * archive_timeout 10 s the largest loss was 9.21 s (median 8.30 s), and a server with a
 * trickle of writes already uploads 360 segments an hour instead of 60, each a forced switch
 * that ships a mostly empty 16 MB segment. Below that, one wal-push (compress, encrypt,
 * upload) takes a good part of the interval, so the loss shrinks little while uploads and
 * bucket bytes grow without bound. An RPO of seconds is what backup.walStreaming is for
 * (0.51 s measured).
 */
export const MIN_RPO_SECONDS = 10;
