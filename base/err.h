/*
 * err.h - the one set of error codes used across tmi-console.
 *
 * Every fallible function returns 0 (TMI_OK) on success or one of the negative
 * TMI_E* codes below. Platform backends translate errno / GetLastError() into
 * these codes exactly once (see core/plat/); nothing above core/plat/ looks at
 * errno or GetLastError(). tmi_strerror() gives a short English message.
 */
#ifndef TMI_ERR_H
#define TMI_ERR_H

enum tmi_err {
    TMI_OK = 0,
    TMI_ENOMEM = -1,     /* out of memory */
    TMI_EINVAL = -2,     /* invalid argument or input */
    TMI_ENOENT = -3,     /* no such file or folder */
    TMI_EACCES = -4,     /* permission denied */
    TMI_EIO = -5,        /* input/output error */
    TMI_ETOOBIG = -6,    /* input exceeds a configured bound */
    TMI_EFORMAT = -7,    /* malformed data (not a PE file, bad JSON, ...) */
    TMI_ENOSPC = -8,     /* no space left on device */
    TMI_EBUSY = -9,      /* file in use, or another job is running */
    TMI_EEXIST = -10,    /* already exists */
    TMI_ENOTSUP = -11,   /* not supported on this platform */
    TMI_ETIMEDOUT = -12, /* timed out */
    TMI_ESERVICE = -13,  /* service control failed */
    TMI_ENOTDIR = -14,   /* not a folder */
    TMI_ECORRUPT = -15,  /* stored data is corrupt or foreign */
    TMI_ESCHEMA = -16,   /* database schema is newer than this program */
    TMI_EROFS = -17,     /* read-only file system */
    TMI_ECONFLICT = -18, /* state changed since it was checked */
    TMI_EINTR = -19,     /* interrupted (shutdown requested) */
    TMI_EAUTH = -20,     /* authentication failed */
    TMI_ELINK = -21,     /* is a symbolic link or reparse point, which is never followed */
    TMI_EREFUSED = -22,  /* connection refused (nothing listens there) */
    TMI_ERESET = -23,    /* connection reset or closed by the peer */
    TMI_EUNREACH = -24,  /* network or host unreachable */
};

/* Short, static, English message for an error code; never NULL. */
const char *tmi_strerror(int err);

#endif
