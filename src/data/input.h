/* input.h — private to the data readers: a file read once, front to back, raw or inflated.
 *
 * Every reader goes through here, so a pipe, a FIFO or /dev/stdin reads like a file: nothing
 * is opened twice, nothing is rewound, and the few bytes looked at to tell an IDX file from a
 * CSV are handed back to the reader that gets the file. Arrays sized from what a file claims
 * grow with what it really holds (data_grow), so a short file cannot make a reader ask for
 * more memory than the data it has. */
#ifndef OCCAM_DATA_INPUT_H
#define OCCAM_DATA_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

#include "occam/data.h"

#define DATA_INPUT_HEAD 4 /* bytes data_input_peek can look at */

typedef struct data_input {
    const char *path;
    int fd;         /* the file read */
    bool regular;   /* a regular file, of `size` bytes on disk (fstat of the file read) */
    uint64_t size;
    uint64_t taken; /* bytes handed to the reader so far */
    size_t line;    /* the line a text reader is on, for messages ("PATH:LINE: ..."); 0: none */
    unsigned char head[DATA_INPUT_HEAD]; /* peeked, handed out before the stream's own */
    unsigned nhead, phead;
    /* The rest is input.c's: the file's bytes as read, raw or inflated. */
    unsigned char *buf; /* DATA_INPUT_BUFFER bytes; [z.next_in, + z.avail_in) not yet used */
    z_stream z;
    uint64_t read;  /* bytes read from the file so far */
    int kind;       /* not yet known, raw or gzip */
    bool inflating; /* z is initialised */
    bool eof;       /* read(2) has said the file ends */
    bool ended;     /* the data has ended, cleanly */
    int fault;      /* what stopped the data (INPUT_FAULT_*, 0: nothing), reported by the next
                     * read or data_input_end */
    int fault_errno;
    uint64_t fault_at; /* the file's byte where the gzip data ended (INPUT_FAULT_TRAILING) */
    char fault_msg[64];
} data_input;

/* Opens path for reading (gzipped or raw). A folder, or a file that cannot be opened, is
 * OCCAM_ERR_INPUT "PATH: cannot open: ...". A file whose first two bytes are gzip's magic is
 * inflated, member after member; anything else in it after a member is an input error (zlib's
 * gz* reader ignored it: `cat a.csv.gz b.csv > c.csv.gz` lost b's rows without a word). */
int data_input_open(data_input *in, const char *path, occam_error *err);
void data_input_close(data_input *in);

/* Reads the first DATA_INPUT_HEAD bytes (fewer at the data's end) into in->head without taking
 * them, and returns how many: the next data_input_read starts with them. Only before any read.
 * A fault met on the way is reported by that read, which names the reader's line. */
unsigned data_input_peek(data_input *in);

/* Reads up to len bytes into buf; *got < len only at the end of the data. */
int data_input_read(data_input *in, void *buf, size_t len, size_t *got, occam_error *err);

/* At the end of the data: whether the stream ended cleanly (for gzip: its CRC and length
 * agree). */
int data_input_end(data_input *in, occam_error *err);

/* What stopped in's data as a status and message ("read error", "corrupt gzip stream", "out of
 * memory while inflating"), naming in->line when set. */
int data_input_error(const data_input *in, occam_error *err);

/* Whether the bytes read are the file's own (not inflated gzip). After the first read. */
bool data_input_raw(const data_input *in);

/* A regular gzip file's trailer: the length of its (last member's) inflated data, mod 2^32.
 * false when there is none to read. */
bool data_input_gzip_length(const data_input *in, uint32_t *length);

/* Grows the array *p of *cap elements of `size` bytes to hold at least `need`, doubling (from
 * `first` at the least) but never past `most`; need <= most. false: out of memory (*p kept). */
bool data_grow(void **p, size_t *cap, size_t need, size_t first, size_t most, size_t size);

/* Moves the array *p of `bytes` bytes to 64-byte aligned memory (occam_alloc's) if it is not
 * there already. false: out of memory (*p kept). */
bool data_align(void **p, size_t bytes);

/* The readers on an opened input (csv.c, idx.c). */
int data_csv_read(occam_dataset *out, data_input *in, const occam_csv_opts *opts,
                  occam_error *err);
int data_idx_read_features(occam_dataset *out, data_input *in, occam_error *err);
/* occam_idx_load, and the images' record shape (rows, cols) from the header it read: each
 * file is opened once (a FIFO has nothing for a second open). */
int data_idx_load(occam_dataset *out, const char *images_path, const char *labels_path,
                  int classes, uint32_t rows_cols[2], occam_error *err);

#endif
