/*
 * hold_file.c - keep a file open the way another program would, for the
 * "file in use" tests under wine.
 *
 *   hold_file.exe FILE none|read RELEASE_FILE [MAX_SECONDS]
 *
 * Opens FILE for reading with share mode 0 ("none": nobody else may even
 * read it) or FILE_SHARE_READ ("read": others may read it, but not write,
 * rename or delete it), prints "holding" and keeps it open until
 * RELEASE_FILE exists or MAX_SECONDS (default 120) pass. Exit 0, or 1 when
 * FILE cannot be opened, 2 usage.
 */
#include <windows.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static wchar_t *wide(const char *s)
{
    int n = MultiByteToWideChar(CP_UTF8, 0, s, -1, NULL, 0);
    wchar_t *w = n > 0 ? malloc((size_t)n * sizeof(*w)) : NULL;
    if (w != NULL)
        MultiByteToWideChar(CP_UTF8, 0, s, -1, w, n);
    return w;
}

int main(int argc, char **argv)
{
    wchar_t *file, *release;
    DWORD share;
    HANDLE h;
    char *end = NULL;
    long seconds = argc > 4 ? strtol(argv[4], &end, 10) : 120;
    if (argc < 4 || (strcmp(argv[2], "none") != 0 && strcmp(argv[2], "read") != 0) ||
        (argc > 4 && (*end != '\0' || seconds < 1 || seconds > 3600))) {
        fprintf(stderr, "usage: hold_file FILE none|read RELEASE_FILE [MAX_SECONDS]\n");
        return 2;
    }
    share = strcmp(argv[2], "read") == 0 ? FILE_SHARE_READ : 0;
    file = wide(argv[1]);
    release = wide(argv[3]);
    if (file == NULL || release == NULL)
        return 2;
    h = CreateFileW(file, GENERIC_READ, share, NULL, OPEN_EXISTING, 0, NULL);
    if (h == INVALID_HANDLE_VALUE) {
        fprintf(stderr, "hold_file: cannot open %s (error %lu)\n", argv[1], GetLastError());
        return 1;
    }
    printf("holding\n");
    fflush(stdout);
    for (int i = 0; i < seconds * 10; i++) {
        if (GetFileAttributesW(release) != INVALID_FILE_ATTRIBUTES)
            break;
        Sleep(100);
    }
    CloseHandle(h);
    return 0;
}
