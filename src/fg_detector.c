/* SPDX-License-Identifier: Apache-2.0
 *
 * fg_detector.c: parameter tables -> conf structs, and the lifecycle.
 */
#include "fg_detector.h"
#include "fg_common.h"

#include <errno.h>
#include <jansson.h>
#include <string.h>

int fg_strlist_has(const struct fg_strlist *l, const char *s)
{
    if (!s)
        return 0;
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i], s) == 0)
            return 1;
    return 0;
}

static void strlist_free(struct fg_strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

static void strlist_add(struct fg_strlist *l, const char *s, size_t n)
{
    while (n && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (!n)
        return;
    l->v = fg_realloc(l->v, (l->n + 1) * sizeof(char *));
    l->v[l->n++] = fg_strndup(s, n);
}

static void strlist_parse(struct fg_strlist *l, const char *text)
{
    const char *p = text;

    for (;;) {
        const char *c = strchr(p, ',');
        strlist_add(l, p, c ? (size_t)(c - p) : strlen(p));
        if (!c)
            break;
        p = c + 1;
    }
}

/* Set one parameter from a JSON value, or from its default text when v is
 * NULL. Returns NULL or the reason the value is wrong. */
static const char *set_param(const struct fg_param *p, void *conf, json_t *v)
{
    char *field = (char *)conf + p->offset;

    switch (p->type) {
    case FG_PARAM_BOOL: {
        int b;
        if (!v)
            b = strcmp(p->def, "true") == 0;
        else if (json_is_boolean(v))
            b = json_is_true(v);
        else
            return "expected true or false";
        memcpy(field, &b, sizeof(b));
        return NULL;
    }
    case FG_PARAM_INT: {
        long long x;
        if (!v) {
            x = strtoll(p->def, NULL, 10);
        } else if (json_is_integer(v)) {
            x = json_integer_value(v);
        } else {
            return "expected an integer";
        }
        if (x < p->min || x > p->max)
            return "out of range";
        memcpy(field, &x, sizeof(x));
        return NULL;
    }
    case FG_PARAM_LIST: {
        struct fg_strlist *l = (struct fg_strlist *)(void *)field;
        strlist_free(l);
        if (!v) {
            strlist_parse(l, p->def);
        } else if (json_is_string(v)) {
            strlist_parse(l, json_string_value(v));
        } else if (json_is_array(v)) {
            size_t i;
            json_t *e;
            json_array_foreach(v, i, e) {
                if (!json_is_string(e)) {
                    strlist_free(l);
                    return "expected strings in the list";
                }
                strlist_add(l, json_string_value(e), json_string_length(e));
            }
        } else {
            return "expected a comma-separated string or an array of strings";
        }
        return NULL;
    }
    }
    return "unknown parameter type";
}

static void free_conf(const struct fg_detector *det, void *conf)
{
    if (!conf)
        return;
    for (const struct fg_param *p = det->params; p && p->name; p++)
        if (p->type == FG_PARAM_LIST)
            strlist_free((struct fg_strlist *)(void *)((char *)conf + p->offset));
    free(conf);
}

/* disabled_rules: rule ids of this detector whose alerts are not produced
 * (a what-if replay without one rule). The detector still runs, so its
 * state and its other rules are as with the rule on. */
static int set_rules_off(struct fg_det_inst *in, json_t *v, const struct fg_config *cfg,
                         const char *path, char *err, size_t errlen)
{
    static const struct fg_param p = {.name = "disabled_rules", .type = FG_PARAM_LIST,
                                      .def = ""};
    struct fg_strlist l = {0};
    const char *bad = set_param(&p, &l, v);
    int rc = 0;

    in->rules_off = 0;
    if (bad) {
        fg_config_error(cfg, path, err, errlen, "%s", bad);
        return -1;
    }
    for (size_t k = 0; k < l.n && rc == 0; k++) {
        const struct fg_rule_decl *r = fg_detector_rule(in->det, l.v[k]);
        if (!r) {
            fg_config_error(cfg, path, err, errlen, "%s is not a rule of %s (see `fundguard "
                            "detectors`)", l.v[k], in->det->name);
            rc = -1;
        } else {
            in->rules_off |= UINT64_C(1) << (r - in->det->rules);
        }
    }
    strlist_free(&l);
    return rc;
}

int fg_det_rule_off(const struct fg_det_inst *in, const struct fg_rule_decl *rule)
{
    return (in->rules_off >> (rule - in->det->rules)) & 1;
}

int fg_detectors_configure(struct fg_detectors *ds, const struct fg_config *cfg,
                           char *err, size_t errlen)
{
    json_t *dets = fg_config_get(cfg, "detectors");
    size_t n = 0;
    char path[256];

    while (fg_detector_registry[n])
        n++;
    ds->v = fg_calloc(n, sizeof(*ds->v));
    ds->n = n;

    /* A section for a detector that does not exist is a typo. */
    if (dets) {
        const char *name;
        json_t *sect;
        json_object_foreach(dets, name, sect) {
            int found = 0;
            for (size_t i = 0; i < n; i++)
                found |= strcmp(fg_detector_registry[i]->name, name) == 0;
            snprintf(path, sizeof(path), "detectors.%s", name);
            if (!found) {
                fg_config_error(cfg, path, err, errlen, "no such detector");
                return -1;
            }
            if (!json_is_object(sect)) {
                fg_config_error(cfg, path, err, errlen, "expected an object");
                return -1;
            }
        }
    }
    for (size_t i = 0; i < n; i++) {
        const struct fg_detector *det = fg_detector_registry[i];
        struct fg_det_inst *in = &ds->v[i];
        json_t *sect = dets ? json_object_get(dets, det->name) : NULL, *v;
        const char *key;

        if (det->abi != FG_DETECTOR_ABI) {
            snprintf(err, errlen, "detector %s: ABI %d, core expects %d", det->name,
                     det->abi, FG_DETECTOR_ABI);
            return -1;
        }
        if (det->rules) {
            size_t nr = 0;
            while (det->rules[nr].rule_id)
                nr++;
            if (nr > 64) {
                snprintf(err, errlen, "detector %s: %zu rules, at most 64", det->name, nr);
                return -1;
            }
        }
        in->det = det;
        in->enabled = 1;
        in->conf = fg_calloc(1, det->conf_size ? det->conf_size : 1);
        if (sect) {
            json_object_foreach(sect, key, v) {
                const struct fg_param *p;
                snprintf(path, sizeof(path), "detectors.%s.%s", det->name, key);
                if (strcmp(key, "enabled") == 0 || strcmp(key, "dry_run") == 0) {
                    if (!json_is_boolean(v)) {
                        fg_config_error(cfg, path, err, errlen, "expected true or false");
                        return -1;
                    }
                    continue;
                }
                if (strcmp(key, "disabled_rules") == 0) {
                    if (set_rules_off(in, v, cfg, path, err, errlen))
                        return -1;
                    continue;
                }
                for (p = det->params; p && p->name; p++)
                    if (strcmp(p->name, key) == 0)
                        break;
                if (!p || !p->name) {
                    fg_config_error(cfg, path, err, errlen,
                                    "unknown parameter (see `fundguard detectors`)");
                    return -1;
                }
            }
            in->enabled = !json_is_false(json_object_get(sect, "enabled"));
            in->dry_run = json_is_true(json_object_get(sect, "dry_run"));
        }
        for (const struct fg_param *p = det->params; p && p->name; p++) {
            const char *bad;
            v = sect ? json_object_get(sect, p->name) : NULL;
            bad = set_param(p, in->conf, v);
            if (bad) {
                snprintf(path, sizeof(path), "detectors.%s.%s", det->name, p->name);
                if (p->type == FG_PARAM_INT && strcmp(bad, "out of range") == 0)
                    fg_config_error(cfg, path, err, errlen, "out of range %lld..%lld",
                                    p->min, p->max);
                else
                    fg_config_error(cfg, path, err, errlen, "%s", bad);
                return -1;
            }
        }
        if (det->validate) {
            char why[256] = "";
            if (det->validate(in->conf, why, sizeof(why))) {
                snprintf(path, sizeof(path), "detectors.%s", det->name);
                fg_config_error(cfg, path, err, errlen, "%s", why);
                return -1;
            }
        }
    }
    return 0;
}

int fg_detectors_init(struct fg_detectors *ds, const struct fg_pack *pack,
                      char *err, size_t errlen)
{
    for (size_t i = 0; i < ds->n; i++) {
        struct fg_det_inst *in = &ds->v[i];
        char why[256] = "";
        if (!in->enabled || !in->det->init)
            continue;
        if (in->det->init(in->conf, pack, &in->priv, why, sizeof(why))) {
            snprintf(err, errlen, "detector %s: init failed: %s", in->det->name, why);
            return -1;
        }
    }
    return 0;
}

void fg_detectors_fini(struct fg_detectors *ds)
{
    if (!ds->v)
        return;
    for (size_t i = 0; i < ds->n; i++) {
        struct fg_det_inst *in = &ds->v[i];
        if (!in->det)
            continue;
        if (in->det->destroy)
            in->det->destroy(in->priv);
        free_conf(in->det, in->conf);
    }
    free(ds->v);
    ds->v = NULL;
    ds->n = 0;
}

const struct fg_rule_decl *fg_detector_rule(const struct fg_detector *det,
                                            const char *rule_id)
{
    for (const struct fg_rule_decl *r = det->rules; r && r->rule_id; r++)
        if (strcmp(r->rule_id, rule_id) == 0)
            return r;
    return NULL;
}

void fg_detectors_describe(FILE *out)
{
    static const char *types[] = {"bool", "int", "list"};

    for (size_t i = 0; fg_detector_registry[i]; i++) {
        const struct fg_detector *d = fg_detector_registry[i];
        fprintf(out, "%s %s\n  %s\n  rules:\n", d->name, d->version, d->description);
        for (const struct fg_rule_decl *r = d->rules; r && r->rule_id; r++)
            fprintf(out, "    %-22s %-9s %s\n", r->rule_id,
                    r->result == FG_RESULT_DEFINITE ? "DEFINITE" : "SUSPECT",
                    r->rule_name);
        fprintf(out, "  parameters (detectors.%s.<name>):\n", d->name);
        fprintf(out, "    %-24s %-5s %-12s %s\n", "enabled", "bool", "true",
                "run this detector");
        fprintf(out, "    %-24s %-5s %-12s %s\n", "dry_run", "bool", "false",
                "count alerts but do not write them");
        fprintf(out, "    %-24s %-5s %-12s %s\n", "disabled_rules", "list", "\"\"",
                "rule ids of this detector whose alerts are not produced");
        for (const struct fg_param *p = d->params; p && p->name; p++) {
            fprintf(out, "    %-24s %-5s %-12s %s", p->name, types[p->type], p->def,
                    p->doc);
            if (p->type == FG_PARAM_INT)
                fprintf(out, " [%lld..%lld]", p->min, p->max);
            fputc('\n', out);
        }
        fprintf(out, "  state:\n");
        for (const struct fg_state_decl *s = d->state; s && s->name; s++)
            fprintf(out, "    %-24s %s\n", s->name, s->doc);
        fputc('\n', out);
    }
}
