/*
 * The cdr: section of the configuration: where call detail records go
 * (b2bua/cdr.h, server/cdr_file.h). Its schema, loading (pass 3 of
 * config_apply.c) and check (part of cay_config_check()).
 *
 *   cdr:
 *     file: /var/log/cay/cdr.json   # default none
 *
 * The check looks at the file system without changing it (`cay -t` must
 * not create the file): the directory must exist and be writable, and
 * the file, when it exists, must be writable and not a directory.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cay/errno.h"
#include "server/config_int.h"

const cyaml_schema_field_t cay__config_cdr_fields[] = {
  STR("file", struct file_cdr, file),
  CYAML_FIELD_END,
};

int
cay__config_apply_cdr(struct load_ctx *lc, const struct file_cdr *f,
                      cay_config_t *c)
{
  if (f == NULL || f->file == NULL)
    return 0;
  return cay__config_copy_text(lc, "cdr.file", f->file, c->cdr_file,
                               sizeof c->cdr_file);
}

int
cay__config_check_cdr(const cay_config_t *c, struct problem *pb, char *err,
                      size_t errlen)
{
  char dir[CAY_CONFIG_TEXT_LEN];
  const char *slash;
  struct stat st;

  strcpy(pb->path, "cdr.file");
  if (!HAS_NUL(c->cdr_file))
    FAIL("cdr.file: longer than %d bytes", CAY_CONFIG_TEXT_LEN - 1);
  if (c->cdr_file[0] == '\0')
    return 0;
  if (stat(c->cdr_file, &st) == 0) {
    if (S_ISDIR(st.st_mode))
      FAIL("cdr.file '%s': a directory, not a file", c->cdr_file);
    if (access(c->cdr_file, W_OK) != 0)
      FAIL("cdr.file '%s': cannot be written: %s", c->cdr_file,
           strerror(errno));
    return 0;
  }
  if (errno != ENOENT)
    FAIL("cdr.file '%s': %s", c->cdr_file, strerror(errno));
  /* Absent: the directory must let the shards create it. */
  slash = strrchr(c->cdr_file, '/');
  if (slash == NULL)
    strcpy(dir, ".");
  else if (slash == c->cdr_file)
    strcpy(dir, "/");
  else
    snprintf(dir, sizeof dir, "%.*s", (int)(slash - c->cdr_file), c->cdr_file);
  if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
    FAIL("cdr.file '%s': its directory '%s' does not exist", c->cdr_file, dir);
  if (access(dir, W_OK | X_OK) != 0)
    FAIL("cdr.file '%s': cannot create it in '%s': %s", c->cdr_file, dir,
         strerror(errno));
  return 0;
}
