/* target.c - see target.h. */
#include "target.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "strutil.h"

static int say(char *err, size_t errlen, int rc, const char *fmt, ...) TMI_PRINTF(4, 5);

static int say(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (errlen > 0)
        vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return rc;
}

static int set_root(tmi_target *t, const char *root, char *err, size_t errlen)
{
    plat_stat st;
    int rc;
    if (root == NULL) {
        rc = plat_default_root(t->root, sizeof(t->root));
        if (rc == TMI_ENOTSUP)
            return say(err, errlen, TMI_EINVAL, "%s",
                       "--root DIR is required on this system (or try 'tmi-console demo')");
        if (rc != TMI_OK)
            return say(err, errlen, rc, "cannot find the system drive: %s", tmi_strerror(rc));
        t->use_registry = 1;
        return TMI_OK;
    }
    rc = plat.stat(root, &st);
    if (rc == TMI_OK && !st.is_dir)
        rc = TMI_ENOTDIR;
    if (rc != TMI_OK)
        return say(err, errlen, rc, "--root %s: %s", root,
                   rc == TMI_ENOTDIR ? "not a folder" : "no such folder");
    rc = plat_full_path(root, t->root, sizeof(t->root));
    if (rc != TMI_OK)
        return say(err, errlen, rc, "--root %s: path too long", root);
    return TMI_OK;
}

int tmi_target_init(tmi_target *t, const playbook *pb, const char *root, const char *tmi_dir,
                    const char *service_name, char *err, size_t errlen)
{
    int rc;
    memset(t, 0, sizeof(*t));
    if (errlen > 0)
        err[0] = '\0';
    t->pb = pb;
    rc = set_root(t, root, err, errlen);
    if (rc != TMI_OK)
        return rc;
    if (tmi_dir != NULL && tmi_dir[0] != '\0' &&
        plat_full_path(tmi_dir, t->tmi_dir, sizeof(t->tmi_dir)) != TMI_OK)
        return say(err, errlen, TMI_ETOOBIG, "--tmi-dir %s: path too long", tmi_dir);
    if (service_name != NULL && service_name[0] != '\0') {
        if (strlen(service_name) >= sizeof(t->service_name))
            return say(err, errlen, TMI_ETOOBIG, "--service %.40s...: name too long", service_name);
        memcpy(t->service_name, service_name, strlen(service_name) + 1);
    }
    return TMI_OK;
}

const char *tmi_target_tmi_dir(const tmi_target *t)
{
    return t->tmi_dir[0] != '\0' ? t->tmi_dir : NULL;
}

const char *tmi_target_service(const tmi_target *t)
{
    return t->service_name[0] != '\0' ? t->service_name : NULL;
}
