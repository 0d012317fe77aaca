/* err.c - messages for the codes in err.h. */
#include "err.h"

const char *tmi_strerror(int err)
{
    switch (err) {
    case TMI_OK:
        return "success";
    case TMI_ENOMEM:
        return "out of memory";
    case TMI_EINVAL:
        return "invalid argument";
    case TMI_ENOENT:
        return "no such file or folder";
    case TMI_EACCES:
        return "permission denied";
    case TMI_EIO:
        return "input/output error";
    case TMI_ETOOBIG:
        return "too large";
    case TMI_EFORMAT:
        return "malformed data";
    case TMI_ENOSPC:
        return "no space left on device";
    case TMI_EBUSY:
        return "file in use or busy";
    case TMI_EEXIST:
        return "already exists";
    case TMI_ENOTSUP:
        return "not supported on this platform";
    case TMI_ETIMEDOUT:
        return "timed out";
    case TMI_ESERVICE:
        return "service control failed";
    case TMI_ENOTDIR:
        return "not a folder";
    case TMI_ECORRUPT:
        return "corrupt or foreign data";
    case TMI_ESCHEMA:
        return "database schema is newer than this program";
    case TMI_EROFS:
        return "read-only file system";
    case TMI_ECONFLICT:
        return "changed since it was checked";
    case TMI_EINTR:
        return "interrupted";
    case TMI_EAUTH:
        return "authentication failed";
    case TMI_ELINK:
        return "is a link";
    case TMI_EREFUSED:
        return "connection refused";
    case TMI_ERESET:
        return "connection reset or closed by the peer";
    case TMI_EUNREACH:
        return "network or host unreachable";
    default:
        return "unknown error";
    }
}
