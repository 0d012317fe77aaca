/*
 * privdir_win32.c - plat_check_private_dir() on Windows: the data folder and
 * everything in it must be owned by Administrators, SYSTEM or the user
 * running tmi-console, and no ACE may let anyone else change them; a link
 * (symbolic link, junction) in it is refused.
 *
 * Why the running user's own SID is accepted as owner: an elevated
 * administrator's process owns what it creates (Windows' default owner
 * policy is "object creator"), so the folder tmi-console makes for itself
 * belongs to that account; only that account and administrators can change
 * what it owns. A folder that a non-administrator made in %ProgramData%
 * (every user may create folders there and owns what they create) belongs
 * to that other account and is refused.
 */
#include "plat_win32_int.h"

#include <aclapi.h>
#include <sddl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "err.h"
#include "strutil.h" /* TMI_PRINTF */

/* Deepest folder examined below the data folder (the demo's sandbox is the
 * deepest thing tmi-console makes there, at 8). */
#define WALK_MAX_DEPTH 16

/* Rights that let a trustee change an object or what is in it. */
#define CHANGE_RIGHTS                                                                              \
    (FILE_WRITE_DATA | FILE_APPEND_DATA | FILE_DELETE_CHILD | DELETE | WRITE_DAC | WRITE_OWNER |   \
     GENERIC_WRITE | GENERIC_ALL | MAXIMUM_ALLOWED)

typedef struct walk {
    const char *top; /* the data folder, as given */
    BYTE admins[SECURITY_MAX_SID_SIZE];
    BYTE system[SECURITY_MAX_SID_SIZE];
    BYTE creator[SECURITY_MAX_SID_SIZE];      /* CREATOR OWNER */
    BYTE owner_rights[SECURITY_MAX_SID_SIZE]; /* OWNER RIGHTS */
    BYTE user[SECURITY_MAX_SID_SIZE];         /* this process's user */
    size_t left;                              /* entries still to examine */
    char *why;
    size_t whylen;
} walk;

static int well_known(WELL_KNOWN_SID_TYPE type, BYTE *sid)
{
    DWORD n = SECURITY_MAX_SID_SIZE;
    return CreateWellKnownSid(type, NULL, sid, &n) ? TMI_OK : win32_err(GetLastError());
}

static int walk_init(walk *w, const char *top, char *why, size_t whylen)
{
    union {
        TOKEN_USER user;
        BYTE raw[SECURITY_MAX_SID_SIZE + sizeof(TOKEN_USER)];
    } info;
    HANDLE tok = NULL;
    DWORD got = 0;
    int rc;
    memset(w, 0, sizeof(*w));
    w->top = top;
    w->left = PLAT_DIR_MAX_ENTRIES;
    w->why = why;
    w->whylen = whylen;
    rc = well_known(WinBuiltinAdministratorsSid, w->admins);
    if (rc == TMI_OK)
        rc = well_known(WinLocalSystemSid, w->system);
    if (rc == TMI_OK)
        rc = well_known(WinCreatorOwnerSid, w->creator);
    if (rc == TMI_OK)
        rc = well_known(WinCreatorOwnerRightsSid, w->owner_rights);
    if (rc != TMI_OK)
        return rc;
    if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &tok))
        return win32_err(GetLastError());
    if (!GetTokenInformation(tok, TokenUser, &info, sizeof(info), &got) ||
        !CopySid(SECURITY_MAX_SID_SIZE, w->user, info.user.User.Sid))
        rc = win32_err(GetLastError());
    CloseHandle(tok);
    return rc;
}

static int trusted_owner(walk *w, PSID sid)
{
    return EqualSid(sid, w->admins) || EqualSid(sid, w->system) || EqualSid(sid, w->user);
}

/* "DOMAIN\name (S-1-...)", or the SID alone when it has no name here. */
static void sid_text(PSID sid, char *buf, size_t buflen)
{
    wchar_t name[128], dom[128];
    DWORD nn = 128, dn = 128;
    SID_NAME_USE use;
    LPWSTR s = NULL;
    char text[96] = "?", acct[320];
    if (ConvertSidToStringSidW(sid, &s)) {
        win32_utf8(s, text, sizeof(text));
        LocalFree(s);
    }
    if (LookupAccountSidW(NULL, sid, name, &nn, dom, &dn, &use)) {
        char n8[128], d8[128];
        win32_utf8(name, n8, sizeof(n8));
        win32_utf8(dom, d8, sizeof(d8));
        snprintf(acct, sizeof(acct), "%s%s%s (%s)", d8, d8[0] ? "\\" : "", n8, text);
        snprintf(buf, buflen, "%s", acct);
    } else {
        snprintf(buf, buflen, "%s", text);
    }
}

static int refuse(walk *w, const char *fmt, ...) TMI_PRINTF(2, 3);

static int refuse(walk *w, const char *fmt, ...)
{
    char fix[PLAT_PATH_MAX * 3 + 256];
    size_t used;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->why, w->whylen, fmt, ap);
    va_end(ap);
    snprintf(fix, sizeof(fix),
             "; fix (in an elevated Command Prompt, after checking what is in it): icacls \"%s\" "
             "/setowner *S-1-5-32-544 /T /C && icacls \"%s\" /reset /T /C && icacls \"%s\" "
             "/inheritance:r /grant:r *S-1-5-32-544:(OI)(CI)F *S-1-5-18:(OI)(CI)F",
             w->top, w->top, w->top);
    used = strlen(w->why);
    if (used + 1 < w->whylen)
        snprintf(w->why + used, w->whylen - used, "%s", fix);
    return TMI_EACCES;
}

/* The first access-allowed ACE of dacl that lets someone other than the
 * trusted accounts change the object: refused, else TMI_OK. */
static int check_dacl(walk *w, const char *path, PACL dacl)
{
    char who[400];
    for (DWORD i = 0; i < dacl->AceCount; i++) {
        ACE_HEADER *h = NULL;
        ACCESS_ALLOWED_ACE *a;
        if (!GetAce(dacl, i, (LPVOID *)&h))
            return win32_err(GetLastError());
        /* the callback form has the same mask and SID layout */
        if (h->AceType != ACCESS_ALLOWED_ACE_TYPE && h->AceType != ACCESS_ALLOWED_CALLBACK_ACE_TYPE)
            continue;
        a = (ACCESS_ALLOWED_ACE *)h;
        if (!(a->Mask & CHANGE_RIGHTS))
            continue;
        PSID sid = (PSID)&a->SidStart;
        if (trusted_owner(w, sid) || EqualSid(sid, w->creator) || EqualSid(sid, w->owner_rights))
            continue;
        sid_text(sid, who, sizeof(who));
        return refuse(w, "%s lets %s change it (access mask 0x%lx%s)", path, who,
                      (unsigned long)a->Mask,
                      (h->AceFlags & INHERITED_ACE) ? ", inherited from the folder above" : "");
    }
    return TMI_OK;
}

/* Owner and DACL of the object at wp (path: the same in UTF-8). */
static int check_security(walk *w, const wchar_t *wp, const char *path)
{
    PSID owner = NULL;
    PACL dacl = NULL;
    PSECURITY_DESCRIPTOR sd = NULL;
    char who[400], self[400];
    int rc = TMI_OK;
    DWORD e = GetNamedSecurityInfoW(wp, SE_FILE_OBJECT,
                                    OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION, &owner,
                                    NULL, &dacl, NULL, &sd);
    if (e != ERROR_SUCCESS)
        return win32_err(e);
    if (owner == NULL || !trusted_owner(w, owner)) {
        if (owner != NULL)
            sid_text(owner, who, sizeof(who));
        else
            snprintf(who, sizeof(who), "nobody");
        sid_text(w->user, self, sizeof(self));
        rc = refuse(w,
                    "%s is owned by %s, not by Administrators, SYSTEM or %s, who runs tmi-console",
                    path, who, self);
    } else if (dacl == NULL) {
        rc = refuse(w, "%s has no DACL, so everyone may change it", path);
    } else {
        rc = check_dacl(w, path, dacl);
    }
    LocalFree(sd);
    return rc;
}

/* wdir + "\" + name as a new string (wide), and its UTF-8 form. */
static int child_paths(const wchar_t *wdir, const wchar_t *name, wchar_t **wp, char **path)
{
    size_t a = wcslen(wdir), b = wcslen(name);
    *path = NULL;
    *wp = malloc((a + b + 2) * sizeof(wchar_t));
    if (*wp == NULL)
        return TMI_ENOMEM;
    memcpy(*wp, wdir, a * sizeof(wchar_t));
    (*wp)[a] = L'\\';
    memcpy(*wp + a + 1, name, (b + 1) * sizeof(wchar_t));
    *path = win32_utf8_dup(*wp, -1);
    if (*path == NULL) {
        free(*wp);
        *wp = NULL;
        return TMI_ENOMEM;
    }
    return TMI_OK;
}

static int check_tree(walk *w, const wchar_t *wdir, const char *dir, int depth);

/* One entry found in a folder: a link is refused, anything else checked,
 * and a folder walked into. */
static int check_entry(walk *w, const wchar_t *wdir, const WIN32_FIND_DATAW *fd, int depth)
{
    wchar_t *wp = NULL;
    char *path = NULL;
    int rc;
    if (w->left-- == 0)
        return TMI_ETOOBIG;
    rc = child_paths(wdir, fd->cFileName, &wp, &path);
    if (rc != TMI_OK)
        return rc;
    if (win32_is_link(wp, fd->dwFileAttributes))
        rc = refuse(w,
                    "%s is a link (a symbolic link or junction), and tmi-console makes none in "
                    "its data folder: remove it (del, or rmdir for a folder)",
                    path);
    else
        rc = check_security(w, wp, path);
    if (rc == TMI_OK && (fd->dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY))
        rc = check_tree(w, wp, path, depth + 1);
    free(wp);
    free(path);
    return rc;
}

static int check_tree(walk *w, const wchar_t *wdir, const char *dir, int depth)
{
    WIN32_FIND_DATAW fd;
    wchar_t *pat = NULL;
    char *unused = NULL;
    HANDLE h;
    int rc;
    if (depth > WALK_MAX_DEPTH)
        return refuse(w, "%s is nested deeper than tmi-console makes folders", dir);
    rc = child_paths(wdir, L"*", &pat, &unused);
    free(unused);
    if (rc != TMI_OK)
        return rc;
    h = FindFirstFileExW(pat, FindExInfoBasic, &fd, FindExSearchNameMatch, NULL, 0);
    free(pat);
    if (h == INVALID_HANDLE_VALUE) {
        DWORD e = GetLastError();
        return (e == ERROR_FILE_NOT_FOUND || e == ERROR_NO_MORE_FILES) ? TMI_OK : win32_err(e);
    }
    do {
        if (wcscmp(fd.cFileName, L".") == 0 || wcscmp(fd.cFileName, L"..") == 0)
            continue;
        rc = check_entry(w, wdir, &fd, depth);
    } while (rc == TMI_OK && FindNextFileW(h, &fd));
    if (rc == TMI_OK && GetLastError() != ERROR_NO_MORE_FILES)
        rc = win32_err(GetLastError());
    FindClose(h);
    return rc;
}

int plat_check_private_dir(const char *path, char *why, size_t whylen)
{
    walk w;
    wchar_t *wp = NULL;
    DWORD attrs;
    int rc;
    if (why != NULL && whylen > 0)
        why[0] = '\0';
    if (path == NULL || path[0] == '\0' || why == NULL || whylen == 0)
        return TMI_EINVAL;
    rc = win32_path(path, &wp);
    if (rc != TMI_OK)
        return rc;
    attrs = GetFileAttributesW(wp);
    if (attrs == INVALID_FILE_ATTRIBUTES)
        rc = win32_err(GetLastError());
    else if (!(attrs & FILE_ATTRIBUTE_DIRECTORY))
        rc = TMI_ENOTDIR;
    if (rc == TMI_OK)
        rc = walk_init(&w, path, why, whylen);
    /* the folder itself may be a junction the user chose (--data): its
     * security is what the call reports for the folder it leads to */
    if (rc == TMI_OK)
        rc = check_security(&w, wp, path);
    if (rc == TMI_OK)
        rc = check_tree(&w, wp, path, 1);
    free(wp);
    return rc;
}
