// libpng behind three C functions that Swift can call safely. libpng reports errors with longjmp, which must not
// cross Swift frames: each function below sets its own jump point, so an error (a truncated file, a bad CRC, a
// header past the size limits) comes back as a non-zero return value and a message, never as a jump into Swift.
#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

/// The error slot libpng's error callback fills before jumping back.
typedef struct {
    char message[256];
} glassbox_png_error;

static void glassbox_png_on_error(png_structp png, png_const_charp message) {
    glassbox_png_error *slot = (glassbox_png_error *)png_get_error_ptr(png);
    if (slot) {
        strncpy(slot->message, message ? message : "libpng error", sizeof(slot->message) - 1);
        slot->message[sizeof(slot->message) - 1] = 0;
    }
    png_longjmp(png, 1);
}

static void glassbox_png_on_warning(png_structp png, png_const_charp message) {
    (void)png;
    (void)message;
}

/// Bytes in memory that libpng reads from.
typedef struct {
    const unsigned char *data;
    size_t size;
    size_t position;
} glassbox_png_source;

static void glassbox_png_read_bytes(png_structp png, png_bytep out, size_t count) {
    glassbox_png_source *s = (glassbox_png_source *)png_get_io_ptr(png);
    if (count > s->size - s->position) png_error(png, "the file ends early (truncated PNG)");
    memcpy(out, s->data + s->position, count);
    s->position += count;
}

/// What a decoded image looks like after the transformations `glassbox_png_decode` applies.
typedef struct {
    unsigned int width;
    unsigned int height;
    /// As stored: bit depth (1, 2, 4, 8 or 16) and PNG colour type (0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA).
    int bit_depth;
    int color_type;
    /// After the transformations: 1 (grey) or 3 (RGB) samples per pixel, 1 or 2 bytes per sample (native byte order).
    int channels;
    int bytes_per_sample;
} glassbox_png_info;

/// Decodes a whole PNG held in memory into `out` (rows top to bottom, interleaved samples): palettes become RGB,
/// grey of 1/2/4 bits becomes 8-bit, alpha (and tRNS transparency) is dropped, 16-bit samples come in native order.
/// With `out` NULL only the header is read into `info`. Images wider or taller than `max_side` are refused before
/// any pixel memory is used. Returns 0 on success, else 1 with `error->message` set.
static inline int glassbox_png_decode(const unsigned char *data, size_t size, unsigned int max_side, glassbox_png_info *info,
                                      unsigned char *out, size_t out_size, glassbox_png_error *error) {
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, error, glassbox_png_on_error, glassbox_png_on_warning);
    if (!png) {
        strcpy(error->message, "libpng could not start");
        return 1;
    }
    png_infop pinfo = png_create_info_struct(png);
    png_bytepp volatile rows = NULL;
    if (!pinfo) {
        png_destroy_read_struct(&png, NULL, NULL);
        strcpy(error->message, "libpng could not start");
        return 1;
    }
    glassbox_png_source source = {data, size, 0};
    if (setjmp(png_jmpbuf(png))) {
        free(rows);
        png_destroy_read_struct(&png, &pinfo, NULL);
        return 1;
    }
    if (size < 8 || png_sig_cmp(data, 0, 8) != 0) png_error(png, "not a PNG file (no PNG signature)");
    png_set_read_fn(png, &source, glassbox_png_read_bytes);
    png_set_user_limits(png, max_side, max_side);
    png_set_chunk_malloc_max(png, 8u << 20);
    png_read_info(png, pinfo);
    info->width = png_get_image_width(png, pinfo);
    info->height = png_get_image_height(png, pinfo);
    info->bit_depth = png_get_bit_depth(png, pinfo);
    info->color_type = png_get_color_type(png, pinfo);
    if (info->color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (info->color_type == PNG_COLOR_TYPE_GRAY && info->bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if ((info->color_type & PNG_COLOR_MASK_ALPHA) || png_get_valid(png, pinfo, PNG_INFO_tRNS)) png_set_strip_alpha(png);
    if (info->bit_depth == 16) png_set_swap(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, pinfo);
    info->channels = png_get_channels(png, pinfo);
    info->bytes_per_sample = png_get_bit_depth(png, pinfo) == 16 ? 2 : 1;
    if (out) {
        size_t rowbytes = png_get_rowbytes(png, pinfo);
        if (rowbytes != (size_t)info->width * info->channels * info->bytes_per_sample || out_size / rowbytes < info->height
            || out_size != rowbytes * info->height)
            png_error(png, "the decoded size differs from the header (internal check)");
        rows = (png_bytepp)malloc(sizeof(png_bytep) * info->height);
        if (!rows) png_error(png, "out of memory");
        for (unsigned int y = 0; y < info->height; y++) rows[y] = out + (size_t)y * rowbytes;
        png_read_image(png, rows);
        png_read_end(png, NULL);
    }
    free(rows);
    png_destroy_read_struct(&png, &pinfo, NULL);
    return 0;
}

/// A growing buffer libpng writes into.
typedef struct {
    unsigned char *data;
    size_t size;
    size_t capacity;
} glassbox_png_sink;

static void glassbox_png_write_bytes(png_structp png, png_bytep bytes, size_t count) {
    glassbox_png_sink *s = (glassbox_png_sink *)png_get_io_ptr(png);
    if (count > s->capacity - s->size) {
        size_t want = s->capacity ? s->capacity : 4096;
        while (want - s->size < count) {
            if (want > ((size_t)-1) / 2) png_error(png, "PNG too large");
            want *= 2;
        }
        unsigned char *grown = (unsigned char *)realloc(s->data, want);
        if (!grown) png_error(png, "out of memory");
        s->data = grown;
        s->capacity = want;
    }
    memcpy(s->data + s->size, bytes, count);
    s->size += count;
}

static void glassbox_png_flush(png_structp png) { (void)png; }

/// Encodes rows of `pixels` (each `stride` bytes, packed as PNG stores them; 16-bit samples in native order) as a
/// PNG of the given colour type and bit depth; `palette` holds `palette_count` RGB triples for colour type 3.
/// No timestamps or text are written, so the same pixels always give the same bytes. On success returns 0 and
/// `sink->data` (free it with `free`) holds the file.
static inline int glassbox_png_encode(unsigned int width, unsigned int height, int color_type, int bit_depth, const unsigned char *pixels,
                                      size_t stride, const unsigned char *palette, int palette_count, glassbox_png_sink *sink,
                                      glassbox_png_error *error) {
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, error, glassbox_png_on_error, glassbox_png_on_warning);
    if (!png) {
        strcpy(error->message, "libpng could not start");
        return 1;
    }
    png_infop pinfo = png_create_info_struct(png);
    if (!pinfo) {
        png_destroy_write_struct(&png, NULL);
        strcpy(error->message, "libpng could not start");
        return 1;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &pinfo);
        free(sink->data);
        sink->data = NULL;
        sink->size = sink->capacity = 0;
        return 1;
    }
    png_set_write_fn(png, sink, glassbox_png_write_bytes, glassbox_png_flush);
    png_set_IHDR(png, pinfo, width, height, bit_depth, color_type, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    if (color_type == PNG_COLOR_TYPE_PALETTE) {
        png_color entries[256];
        if (palette_count < 1 || palette_count > 256) png_error(png, "a palette needs 1 to 256 entries");
        for (int i = 0; i < palette_count; i++) {
            entries[i].red = palette[3 * i];
            entries[i].green = palette[3 * i + 1];
            entries[i].blue = palette[3 * i + 2];
        }
        png_set_PLTE(png, pinfo, entries, palette_count);
    }
    png_set_compression_level(png, 6);
    png_write_info(png, pinfo);
    if (bit_depth == 16) png_set_swap(png);
    for (unsigned int y = 0; y < height; y++) png_write_row(png, pixels + (size_t)y * stride);
    png_write_end(png, pinfo);
    png_destroy_write_struct(&png, &pinfo);
    return 0;
}
