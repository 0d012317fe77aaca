/*
 * acl_check.c - print a file's DACL in SDDL, for run.sh to check that the
 * API token is readable by Administrators, SYSTEM and its owner only.
 *
 *   acl_check FILE      prints "D:P(A;;FA;;;BA)..." and exits 0
 *                        (2: bad arguments, 1: the DACL cannot be read)
 */
#include <windows.h>

#include <aclapi.h>
#include <sddl.h>
#include <stdio.h>
#include <stdlib.h>

static wchar_t *wide(const char *s)
{
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, NULL, 0);
    wchar_t *w = n > 0 ? malloc((size_t)n * sizeof(*w)) : NULL;
    if (w != NULL && MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, w, n) != n) {
        free(w);
        w = NULL;
    }
    return w;
}

int main(int argc, char **argv)
{
    PSECURITY_DESCRIPTOR sd = NULL;
    PACL dacl = NULL;
    LPWSTR text = NULL;
    wchar_t *file;
    DWORD rc;
    if (argc != 2) {
        fprintf(stderr, "usage: acl_check FILE\n");
        return 2;
    }
    file = wide(argv[1]);
    if (file == NULL) {
        fprintf(stderr, "acl_check: the path is not UTF-8\n");
        return 2;
    }
    rc = GetNamedSecurityInfoW(file, SE_FILE_OBJECT, DACL_SECURITY_INFORMATION, NULL, NULL, &dacl,
                               NULL, &sd);
    free(file);
    if (rc != ERROR_SUCCESS) {
        fprintf(stderr, "acl_check: GetNamedSecurityInfoW: error %lu\n", (unsigned long)rc);
        return 1;
    }
    if (!ConvertSecurityDescriptorToStringSecurityDescriptorW(sd, SDDL_REVISION_1,
                                                              DACL_SECURITY_INFORMATION, &text,
                                                              NULL)) {
        fprintf(stderr, "acl_check: cannot format the DACL: error %lu\n",
                (unsigned long)GetLastError());
        LocalFree(sd);
        return 1;
    }
    printf("%ls\n", text);
    LocalFree(text);
    LocalFree(sd);
    return 0;
}
