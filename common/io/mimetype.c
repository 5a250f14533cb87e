#include "common/io/mimetype.h"

#include <string.h>
#include <strings.h>

/* Built in rather than read from /etc/mime.types, so the same file gets
 * the same type on every machine. Types receivers render inline come
 * first in spirit: images, audio, video, text. */
static const struct {
    const char *ext, *type;
} types[] = {
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"png", "image/png"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"avif", "image/avif"},
    {"heic", "image/heic"},
    {"svg", "image/svg+xml"},
    {"bmp", "image/bmp"},
    {"ico", "image/vnd.microsoft.icon"},
    {"tif", "image/tiff"},
    {"tiff", "image/tiff"},
    {"mp3", "audio/mpeg"},
    {"m4a", "audio/mp4"},
    {"aac", "audio/aac"},
    {"ogg", "audio/ogg"},
    {"oga", "audio/ogg"},
    {"opus", "audio/ogg"},
    {"flac", "audio/flac"},
    {"wav", "audio/wav"},
    {"mp4", "video/mp4"},
    {"m4v", "video/mp4"},
    {"webm", "video/webm"},
    {"mkv", "video/x-matroska"},
    {"mov", "video/quicktime"},
    {"ogv", "video/ogg"},
    {"avi", "video/x-msvideo"},
    {"txt", "text/plain"},
    {"log", "text/plain"},
    {"text", "text/plain"},
    {"md", "text/markdown"},
    {"csv", "text/csv"},
    {"tsv", "text/tab-separated-values"},
    {"html", "text/html"},
    {"htm", "text/html"},
    {"css", "text/css"},
    {"ics", "text/calendar"},
    {"vcf", "text/vcard"},
    {"diff", "text/x-diff"},
    {"patch", "text/x-diff"},
    {"json", "application/json"},
    {"xml", "application/xml"},
    {"yaml", "application/yaml"},
    {"yml", "application/yaml"},
    {"js", "text/javascript"},
    {"pdf", "application/pdf"},
    {"zip", "application/zip"},
    {"gz", "application/gzip"},
    {"tgz", "application/gzip"},
    {"bz2", "application/x-bzip2"},
    {"xz", "application/x-xz"},
    {"zst", "application/zstd"},
    {"tar", "application/x-tar"},
    {"7z", "application/x-7z-compressed"},
    {"odt", "application/vnd.oasis.opendocument.text"},
    {"ods", "application/vnd.oasis.opendocument.spreadsheet"},
    {"odp", "application/vnd.oasis.opendocument.presentation"},
    {"doc", "application/msword"},
    {"docx", "application/"
             "vnd.openxmlformats-officedocument.wordprocessingml.document"},
    {"xls", "application/vnd.ms-excel"},
    {"xlsx", "application/"
             "vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    {"pptx", "application/"
             "vnd.openxmlformats-officedocument.presentationml.presentation"},
    {"epub", "application/epub+zip"},
    {"apk", "application/vnd.android.package-archive"},
};

const char *mimetype_guess(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    if (dot && dot != base)
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            if (!strcasecmp(dot + 1, types[i].ext))
                return types[i].type;
    return "application/octet-stream";
}

/* RFC 2045 §5.1 token characters. */
static int is_token(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] <= ' ' || s[i] > '~' || strchr("()<>@,;:\\\"/[]?=", s[i]))
            return 0;
    return 1;
}

const char *mimetype_check(const char *type)
{
    const char *slash = strchr(type, '/');
    if (!slash)
        return "not TYPE/SUBTYPE";
    size_t sub = strcspn(slash + 1, ";");
    if (!is_token(type, (size_t)(slash - type)) || !is_token(slash + 1, sub))
        return "not TYPE/SUBTYPE";
    for (const char *p = slash + 1 + sub; *p; p++)
        if ((*p < ' ' && *p != '\t') || *p > '~')
            return "control or non-ASCII character";
    if (strlen(type) > 255)
        return "longer than 255 characters";
    return NULL;
}
