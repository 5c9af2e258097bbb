/* test_wire.c — the record codecs and the job forms of probe_run_many and remedy_plan, on
 * results of real probes against `openssl s_server` on 127.0.0.1 (ephemeral ports) with a
 * chain (root, intermediate, leaf) and a self-signed certificate made here by openssl. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "evloop.h"
#include "job.h"
#include "ngxconf.h"
#include "probe-wire.h"
#include "probe.h"
#include "remedy-wire.h"
#include "remedy.h"
#include "resolve.h"
#include "spawn.h"
#include "wire.h"
#include "xmalloc.h"

/* ---- the lab: certificates and two s_servers ---- */

struct lab {
    char dir[64];
    char *root, *ss; /* paths of root.pem, ss.pem */
    pid_t srv[2];
    int port_chain, port_ss, port_closed;
    int stall_fd, port_stall; /* listens, never accepts: a handshake that never ends */
};

static struct lab lab;

static void
run(const char *const *argv)
{
    struct buf out = BUF_INIT;
    struct spawn_result r;
    char *cause = NULL;

    if (spawn_run((char *const *)argv, &out, 30000, &r, &cause) != 0)
        fail_msg("%s", cause);
    if (!r.exited || r.status != 0)
        fail_msg("%s failed: %s", argv[0], buf_str(&out));
    buf_free(&out);
}

static char *
at(const char *name)
{
    return xasprintf("%s/%s", lab.dir, name);
}

/* An EC P-256 certificate: self-signed when ca is NULL, else signed by ca (ca.pem/ca.key). */
static void
mkcert(const char *name, const char *subj, const char *ca, const char *ext1, const char *ext2)
{
    char *key = xasprintf("%s/%s.key", lab.dir, name), *pem = xasprintf("%s/%s.pem", lab.dir, name);
    char *cap = ca != NULL ? xasprintf("%s/%s.pem", lab.dir, ca) : NULL;
    char *cak = ca != NULL ? xasprintf("%s/%s.key", lab.dir, ca) : NULL;
    const char *argv[32] = {
        "openssl", "req",     "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
        "-nodes",  "-keyout", key,     "-out",    pem,  "-days",    "30",
        "-utf8",   "-subj",   subj,    "-addext", ext1, "-addext",  ext2};
    size_t n = 21;

    if (ca != NULL) {
        argv[n++] = "-CA";
        argv[n++] = cap;
        argv[n++] = "-CAkey";
        argv[n++] = cak;
    }
    argv[n] = NULL;
    run(argv);
    free(key);
    free(pem);
    free(cap);
    free(cak);
}

/* Starts openssl s_server -accept 127.0.0.1:0 with args; returns the port it took. */
static int
s_server(const char *log, const char *cert, const char *key, const char *chain, pid_t *pid)
{
    char *logp = at(log);
    const char *argv[16] = {"openssl", "s_server", "-www", "-accept", "127.0.0.1:0",
                            "-cert",   cert,       "-key", key};
    size_t n = 9;
    int port = 0;

    if (chain != NULL) {
        argv[n++] = "-cert_chain";
        argv[n++] = chain;
    }
    argv[n] = NULL;
    *pid = fork();
    assert_true(*pid >= 0);
    if (*pid == 0) {
        int fd = open(logp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int nul = open("/dev/null", O_RDONLY);
        dup2(nul, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    for (int i = 0; i < 200 && port == 0; i++) { /* "ACCEPT 127.0.0.1:36001" */
        char line[256];
        FILE *f = fopen(logp, "r");
        while (f != NULL && fgets(line, sizeof(line), f) != NULL)
            sscanf(line, "ACCEPT 127.0.0.1:%d", &port);
        if (f != NULL)
            fclose(f);
        if (port == 0)
            usleep(20000);
    }
    free(logp);
    assert_true(port > 0);
    return port;
}

static int
bound_port(int fd)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);

    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    return ntohs(sa.sin_port);
}

static int
listener(bool keep)
{
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(fd, 16), 0);
    port = bound_port(fd);
    if (!keep) {
        close(fd);
        return port;
    }
    lab.stall_fd = fd;
    return port;
}

static int
lab_up(void **state)
{
    char *leaf, *leafk, *inter, *ssk;

    (void)state;
    strcpy(lab.dir, "/tmp/tt-wire-XXXXXX");
    assert_non_null(mkdtemp(lab.dir));
    mkcert("root", "/O=Lab/CN=Lab Root", NULL, "basicConstraints=critical,CA:TRUE",
           "keyUsage=keyCertSign,cRLSign");
    mkcert("inter", "/O=Lab/CN=Lab Intermediate", "root", "basicConstraints=critical,CA:TRUE",
           "keyUsage=keyCertSign,cRLSign");
    mkcert("leaf",
           "/O=L\xc3\xa4"
           "b/CN=api.lab",
           "inter", "subjectAltName=DNS:api.lab,IP:127.0.0.1", "basicConstraints=CA:FALSE");
    mkcert("ss", "/CN=selfsigned.lab", NULL, "subjectAltName=DNS:selfsigned.lab,DNS:alt.lab",
           "basicConstraints=CA:FALSE");
    lab.root = at("root.pem");
    lab.ss = at("ss.pem");
    leaf = at("leaf.pem");
    leafk = at("leaf.key");
    inter = at("inter.pem");
    ssk = at("ss.key");
    lab.port_chain = s_server("chain.log", leaf, leafk, inter, &lab.srv[0]);
    lab.port_ss = s_server("ss.log", lab.ss, ssk, NULL, &lab.srv[1]);
    lab.port_closed = listener(false);
    lab.port_stall = listener(true);
    free(leaf);
    free(leafk);
    free(inter);
    free(ssk);
    return 0;
}

static int
lab_down(void **state)
{
    const char *argv[] = {"rm", "-rf", lab.dir, NULL};

    (void)state;
    for (int i = 0; i < 2; i++) {
        if (lab.srv[i] > 0) {
            kill(lab.srv[i], SIGTERM);
            waitpid(lab.srv[i], NULL, 0);
        }
    }
    close(lab.stall_fd);
    run(argv);
    free(lab.root);
    free(lab.ss);
    return 0;
}

/* ---- field-by-field comparison ---- */

static void
str_eq(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        assert_ptr_equal(a, b);
    else
        assert_string_equal(a, b);
}

/* Whole days from now: a second probe may run after a day boundary of the expiry. */
static void
days_eq(long a, long b, bool timing)
{
    if (timing)
        assert_int_equal(a, b);
    else
        assert_true(a - b <= 1 && b - a <= 1);
}

static void
cert_eq(const struct cert_info *a, const struct cert_info *b, bool timing)
{
    str_eq(a->subject, b->subject);
    str_eq(a->issuer, b->issuer);
    str_eq(a->serial, b->serial);
    assert_int_equal(a->nsan, b->nsan);
    for (size_t i = 0; i < a->nsan; i++) {
        assert_int_equal(a->san[i].type, b->san[i].type);
        str_eq(a->san[i].value, b->san[i].value);
    }
    assert_int_equal(a->nsan_total, b->nsan_total);
    assert_int_equal(a->not_before, b->not_before);
    assert_int_equal(a->not_after, b->not_after);
    assert_string_equal(a->not_before_s, b->not_before_s);
    assert_string_equal(a->not_after_s, b->not_after_s);
    days_eq(a->days_left, b->days_left, timing);
    str_eq(a->key, b->key);
    str_eq(a->sig_alg, b->sig_alg);
    assert_string_equal(a->sha256, b->sha256);
    assert_int_equal(a->is_ca, b->is_ca);
    assert_int_equal(a->self_signed, b->self_signed);
    assert_int_equal(a->trusted, b->trusted);
}

/* Equal in every field; with !timing (a second probe) elapsed_ms may differ and days left
 * by one. */
static void
result_eq(const struct probe_result *a, const struct probe_result *b, bool timing)
{
    const struct probe_whatif *x = &a->what_if, *y = &b->what_if;

    str_eq(a->upstream, b->upstream);
    str_eq(a->location, b->location);
    str_eq(a->name, b->name);
    str_eq(a->sni, b->sni);
    assert_int_equal(a->verdict, b->verdict);
    assert_int_equal(a->verify_code, b->verify_code);
    str_eq(a->nginx_message, b->nginx_message);
    str_eq(a->phase, b->phase);
    str_eq(a->protocol, b->protocol);
    str_eq(a->cipher, b->cipher);
    str_eq(a->name_rule, b->name_rule);
    assert_int_equal(a->presented == NULL, b->presented == NULL);
    if (a->presented != NULL) {
        assert_int_equal(sk_X509_num(a->presented), sk_X509_num(b->presented));
        for (int i = 0; i < sk_X509_num(a->presented); i++)
            assert_int_equal(
                X509_cmp(sk_X509_value(a->presented, i), sk_X509_value(b->presented, i)), 0);
    }
    assert_int_equal(a->nchain, b->nchain);
    for (size_t i = 0; i < a->nchain; i++)
        cert_eq(&a->chain[i], &b->chain[i], timing);
    assert_int_equal(a->chain_total, b->chain_total);
    assert_int_equal(a->nverified, b->nverified);
    for (size_t i = 0; i < a->nverified; i++)
        cert_eq(&a->verified[i], &b->verified[i], timing);
    assert_int_equal(x->computed, y->computed);
    assert_int_equal(x->unlimited_depth, y->unlimited_depth);
    assert_int_equal(x->with_sni, y->with_sni);
    assert_int_equal(x->trust_leaf, y->trust_leaf);
    assert_int_equal(x->trust_root, y->trust_root);
    assert_int_equal(x->add_intermediate, y->add_intermediate);
    assert_int_equal(x->system_store, y->system_store);
    str_eq(x->intermediate_note, y->intermediate_note);
    assert_int_equal(x->nnames, y->nnames);
    for (size_t i = 0; i < x->nnames; i++)
        str_eq(x->names[i], y->names[i]);
    assert_int_equal(a->anchor_not_after, b->anchor_not_after);
    days_eq(a->anchor_days_left, b->anchor_days_left, timing);
    if (timing)
        assert_int_equal(a->elapsed_ms, b->elapsed_ms);
}

/* ---- probes ---- */

#define NPROBES 5

static char upstreams[NPROBES][64];

static void
probe_set(struct probe_opts *o)
{
    for (int i = 0; i < NPROBES; i++) {
        probe_opts_init(&o[i]);
        o[i].host = "127.0.0.1";
        o[i].trusted = lab.root;
        o[i].what_if = true;
        o[i].timeout_ms = 2000;
    }
    o[0].port = lab.port_chain; /* passes */
    o[0].name = "api.lab";
    o[0].location = "location /ok in server front.lab (nginx.conf:12)";
    o[1].port = lab.port_chain; /* a name the certificate does not have */
    o[1].name = "wrong.lab";
    o[1].server_name = true;
    o[2].port = lab.port_ss;     /* self-signed: 18, pin and names as what-ifs */
    o[3].port = lab.port_closed; /* nothing listens */
    o[4].port = lab.port_ss;     /* verification off */
    o[4].verify = false;
    for (int i = 0; i < NPROBES; i++)
        snprintf(upstreams[i], sizeof(upstreams[i]), "127.0.0.1:%d", o[i].port);
}

static void
probes_in_process(struct probe_result *res)
{
    struct probe_opts o[NPROBES];
    char *cause = NULL;

    probe_set(o);
    assert_int_equal(probe_run_many(o, NPROBES, res, 4, NULL, &cause), 0);
    /* the fixture is what the test claims: every kind of field filled somewhere */
    assert_int_equal(res[0].verdict, PROBE_OK);
    assert_true(res[0].nverified >= 3);
    assert_int_equal(sk_X509_num(res[0].presented), 2);
    assert_non_null(strstr(res[0].chain[0].subject, "L\xc3\xa4"
                                                    "b"));
    assert_int_equal(res[1].verdict, PROBE_NAME_MISMATCH);
    assert_string_equal(res[1].sni, "wrong.lab");
    assert_true(res[1].what_if.nnames >= 1);
    assert_int_equal(res[2].verdict, PROBE_VERIFY_ERROR);
    assert_int_equal(res[2].verify_code, 18);
    assert_int_equal(res[2].what_if.trust_leaf, PROBE_NAME_MISMATCH); /* an IP literal, 1.22 */
    assert_true(res[2].what_if.nnames >= 2);
    assert_int_equal(res[2].chain[0].nsan, 2);
    assert_int_equal(res[3].verdict, PROBE_CONNECT_ERROR);
    assert_string_equal(res[3].phase, "connecting to upstream");
    assert_null(res[3].presented);
    assert_int_equal(res[4].verdict, PROBE_OK);
}

static void
probe_results_survive_the_wire_field_by_field(void **state)
{
    struct probe_result res[NPROBES];

    (void)state;
    probes_in_process(res);
    for (int i = 0; i < NPROBES; i++) {
        struct buf b = BUF_INIT;
        struct wire_rd rd;
        struct probe_result back;
        probe_wire_put(&b, &res[i]);
        wire_rd_init(&rd, b.p, b.len);
        assert_int_equal(probe_wire_get(&rd, &back), 0);
        assert_true(wire_rd_done(&rd));
        result_eq(&res[i], &back, true);
        probe_result_free(&back);
        buf_free(&b);
    }
    for (int i = 0; i < NPROBES; i++)
        probe_result_free(&res[i]);
}

static void
a_cut_or_corrupt_probe_record_never_decodes(void **state)
{
    struct probe_result res[NPROBES], back;
    struct buf b = BUF_INIT;
    struct wire_rd rd;

    (void)state;
    probes_in_process(res);
    probe_wire_put(&b, &res[2]);
    for (size_t cut = 0; cut < b.len; cut++) {
        wire_rd_init(&rd, b.p, cut);
        assert_int_equal(probe_wire_get(&rd, &back), -1);
        assert_null(back.upstream); /* nothing left allocated */
    }
    b.p[b.len - 30] ^= 0x7f; /* inside the trailing integers: a verdict or time goes wrong */
    wire_rd_init(&rd, b.p, b.len);
    if (probe_wire_get(&rd, &back) == 0)
        probe_result_free(&back); /* a time may take any value; the verdicts may not */
    buf_reset(&b);
    wire_put_str(&b, "u");
    wire_put_str(&b, NULL);
    wire_put_str(&b, NULL);
    wire_put_str(&b, NULL);
    wire_put_i64(&b, 99); /* no such verdict */
    wire_rd_init(&rd, b.p, b.len);
    assert_int_equal(probe_wire_get(&rd, &back), -1);
    buf_free(&b);
    for (int i = 0; i < NPROBES; i++)
        probe_result_free(&res[i]);
}

struct probe_seen {
    struct probe_result *res;
    size_t n;
    bool done;
    enum job_status status;
    char *error;
    int nresults;
    size_t order[NPROBES];
    struct buf progress;
    struct probe_stats stats;
};

static void
pj_progress(const char *msg, void *arg)
{
    struct probe_seen *s = arg;
    buf_addf(&s->progress, "%s|", msg);
}

static void
pj_result(size_t i, const struct probe_result *r, void *arg)
{
    struct probe_seen *s = arg;

    assert_non_null(r->upstream);
    s->order[s->nresults++] = i;
}

static void
pj_done(struct probe_result *res, size_t n, const struct probe_stats *st,
        const struct job_outcome *o, void *arg)
{
    struct probe_seen *s = arg;

    s->res = res;
    s->n = n;
    s->done = true;
    s->status = o->status;
    s->error = o->error != NULL ? xstrdup(o->error) : NULL;
    s->stats = *st;
}

static void
tick(struct evloop *loop, int id, void *arg)
{
    (void)loop;
    (void)id;
    (*(int *)arg)++;
}

static void
run_until(struct evloop *loop, const bool *flag)
{
    uint64_t end = evloop_now_ms() + 30000;

    while (!*flag && evloop_now_ms() < end)
        assert_true(evloop_run_once(loop, 100) >= 0);
    assert_true(*flag);
}

static void
the_probe_job_returns_what_an_in_process_probe_returns(void **state)
{
    struct probe_result res[NPROBES];
    struct probe_opts o[NPROBES];
    struct evloop *loop = evloop_new();
    struct job_runner *jr = job_runner_new(loop);
    struct probe_seen s = {0};
    struct probe_job_cbs cbs = {pj_progress, pj_result, pj_done, &s};
    char *cause = NULL;
    int ticks = 0;

    (void)state;
    probes_in_process(res);
    probe_set(o);
    evloop_timer_add(loop, 10, 10, tick, &ticks);
    assert_non_null(probe_wire_job_start(jr, o, NPROBES, 4, 2, &cbs, &cause));
    run_until(loop, &s.done);
    assert_int_equal(s.status, JOB_OK);
    assert_null(s.error);
    assert_int_equal(s.n, NPROBES);
    assert_int_equal(s.nresults, NPROBES);
    for (int i = 0; i < NPROBES; i++) {
        assert_int_equal(s.order[i], i); /* batches of 2, in order */
        result_eq(&res[i], &s.res[i], false);
    }
    assert_string_equal(buf_str(&s.progress), "probing upstreams 1 to 2 of 5|"
                                              "probing upstreams 3 to 4 of 5|"
                                              "probing upstreams 5 to 5 of 5|");
    assert_true(s.stats.handshakes >= NPROBES);
    assert_true(ticks > 0);
    probe_wire_free_all(s.res, s.n);
    for (int i = 0; i < NPROBES; i++)
        probe_result_free(&res[i]);
    buf_free(&s.progress);
    job_runner_free(jr);
    evloop_free(loop);
}

static void
cancel_cb(struct evloop *loop, int id, void *arg)
{
    (void)loop;
    (void)id;
    job_cancel(arg);
}

static void
a_cancelled_probe_job_leaves_the_results_not_tried(void **state)
{
    struct probe_opts o[2];
    struct evloop *loop = evloop_new();
    struct job_runner *jr = job_runner_new(loop);
    struct probe_seen s = {0};
    struct probe_job_cbs cbs = {NULL, NULL, pj_done, &s};
    char *cause = NULL;
    struct job *j;
    uint64_t start = evloop_now_ms();

    (void)state;
    for (int i = 0; i < 2; i++) {
        probe_opts_init(&o[i]);
        o[i].host = "127.0.0.1";
        o[i].port = lab.port_stall; /* connects, and no ServerHello ever comes */
        o[i].trusted = lab.root;
        o[i].timeout_ms = 20000;
    }
    j = probe_wire_job_start(jr, o, 2, 2, 0, &cbs, &cause);
    assert_non_null(j);
    evloop_timer_add(loop, 100, 0, cancel_cb, j);
    run_until(loop, &s.done);
    assert_true(evloop_now_ms() - start < 3000);
    assert_int_equal(s.status, JOB_CANCELLED);
    assert_int_equal(s.res[0].verdict, PROBE_NOT_TRIED);
    assert_int_equal(s.res[1].verdict, PROBE_NOT_TRIED);
    probe_wire_free_all(s.res, s.n);
    free(s.error);
    job_runner_free(jr);
    evloop_free(loop);
}

/* ---- remedy ---- */

struct plan_env {
    char *conf_path, *cert_dir;
    struct ngxconf *conf;
    struct tls_use *uses;
    size_t nuses;
    const struct tls_use *use;
    struct remedy_opts ro;
};

static void
plan_env_init(struct plan_env *e, const char *location)
{
    FILE *f;

    memset(e, 0, sizeof(*e));
    e->conf_path = at("nginx.conf");
    e->cert_dir = at("certs");
    mkdir(e->cert_dir, 0700);
    f = fopen(e->conf_path, "w");
    assert_non_null(f);
    fprintf(f,
            "events {}\n"
            "http {\n"
            "    server {\n"
            "        listen 127.0.0.1:18080;\n"
            "        server_name front.lab;\n"
            "        location %s {\n"
            "            proxy_pass https://127.0.0.1:%d/;\n"
            "            proxy_ssl_verify on;\n"
            "            proxy_ssl_trusted_certificate %s;\n"
            "        }\n"
            "    }\n"
            "}\n",
            location, lab.port_ss, lab.root);
    fclose(f);
    char *cause = NULL;
    assert_int_equal(ngxconf_load(e->conf_path, lab.dir, &e->conf, &cause), 0);
    e->nuses = resolve_uses(e->conf, &e->uses);
    assert_int_equal(e->nuses, 1);
    e->use = &e->uses[0];
    e->ro.cert_dir = e->cert_dir;
    e->ro.tmp_dir = lab.dir;
    e->ro.timeout_ms = 2000;
}

static void
plan_env_free(struct plan_env *e)
{
    resolve_uses_free(e->uses, e->nuses);
    ngxconf_free(e->conf);
    free(e->conf_path);
    free(e->cert_dir);
}

static void
say(void *arg, const char *msg)
{
    buf_addf(arg, "%s|", msg);
}

static void
case_eq(const struct remedy_case *a, const struct remedy_case *b, bool timing)
{
    str_eq(a->upstream, b->upstream);
    str_eq(a->host, b->host);
    assert_int_equal(a->port, b->port);
    str_eq(a->context, b->context);
    str_eq(a->file, b->file);
    assert_int_equal(a->line, b->line);
    str_eq(a->block_name, b->block_name);
    for (int k = 0; k < PSS__COUNT; k++) {
        str_eq(a->effective.v[k].value, b->effective.v[k].value);
        assert_int_equal(a->effective.v[k].origin, b->effective.v[k].origin);
        str_eq(a->effective.v[k].file, b->effective.v[k].file);
        assert_int_equal(a->effective.v[k].line, b->effective.v[k].line);
        str_eq(a->effective.v[k].block, b->effective.v[k].block);
    }
    result_eq(&a->probe, &b->probe, timing);
    assert_int_equal(a->verification_disabled, b->verification_disabled);
    str_eq(a->cause, b->cause);
    assert_int_equal(a->nfixes, b->nfixes);
    for (size_t i = 0; i < a->nfixes; i++) {
        const struct remedy_fix *f = &a->fixes[i], *g = &b->fixes[i];
        str_eq(f->id, g->id);
        assert_int_equal(f->strategies, g->strategies);
        str_eq(f->summary, g->summary);
        assert_int_equal(f->verified, g->verified);
        str_eq(f->verdict_note, g->verdict_note);
        assert_int_equal(f->nsets, g->nsets);
        for (size_t k = 0; k < f->nsets; k++) {
            assert_int_equal(f->sets[k].key, g->sets[k].key);
            str_eq(f->sets[k].value, g->sets[k].value);
            str_eq(f->sets[k].note, g->sets[k].note);
            str_eq(f->sets[k].block_label, g->sets[k].block_label);
        }
        /* the blast radius travels too */
        str_eq(f->diff_root, g->diff_root);
        assert_int_equal(f->radius_whole, g->radius_whole);
        assert_int_equal(f->naffected, g->naffected);
        for (size_t k = 0; k < f->naffected; k++) {
            const struct remedy_affected *x = &f->affected[k], *y = &g->affected[k];
            str_eq(x->context, y->context);
            str_eq(x->file, y->file);
            assert_int_equal(x->line, y->line);
            str_eq(x->upstream, y->upstream);
            str_eq(x->changed, y->changed);
            assert_int_equal(x->target, y->target);
            assert_int_equal(x->probed, y->probed);
            assert_int_equal(x->before, y->before);
            assert_int_equal(x->after, y->after);
            str_eq(x->before_message, y->before_message);
            str_eq(x->after_message, y->after_message);
        }
        assert_int_equal(f->nfiles, g->nfiles);
        for (size_t k = 0; k < f->nfiles; k++) {
            str_eq(f->files[k].path, g->files[k].path);
            assert_int_equal(f->files[k].len, g->files[k].len);
            assert_memory_equal(f->files[k].data, g->files[k].data, f->files[k].len);
            assert_int_equal(f->files[k].mode, g->files[k].mode);
            assert_int_equal(f->files[k].config, g->files[k].config);
            assert_string_equal(f->sha256[k], g->sha256[k]);
        }
        str_eq(f->diff, g->diff);
    }
}

static void
plan_in_process(struct plan_env *e, struct remedy_case *c, struct buf *said)
{
    char *cause = NULL;
    char want[160];

    e->ro.progress = say;
    e->ro.progress_arg = said;
    assert_int_equal(remedy_plan(e->conf, e->use, 0, &e->ro, c, &cause), 0);
    e->ro.progress = NULL;
    e->ro.progress_arg = NULL;
    /* the fixture: a self-signed upstream behind an IP literal needs pin, then a name */
    assert_true(c->nfixes >= 1);
    assert_true(c->fixes[0].verified);
    assert_true(c->fixes[0].nfiles >= 2); /* the pinned certificate and the config */
    assert_non_null(c->fixes[0].diff);
    assert_true(c->fixes[0].naffected >= 1); /* the target at least: the radius is planned */
    assert_int_equal(c->probe.verify_code, 18);
    snprintf(want, sizeof(want),
             "probing 127.0.0.1:%d under the current settings|"
             "probing candidate 1 of at most 24: pin|",
             lab.port_ss);
    assert_memory_equal(buf_str(said), want, strlen(want));
}

static void
a_planned_case_survives_the_wire_and_finds_its_block_again(void **state)
{
    struct plan_env e;
    struct remedy_case c, back;
    struct buf b = BUF_INIT, said = BUF_INIT;
    struct wire_rd rd;
    char *cause = NULL;

    (void)state;
    plan_env_init(&e, "/ss/");
    plan_in_process(&e, &c, &said);
    remedy_wire_put(&b, &c);
    wire_rd_init(&rd, b.p, b.len);
    assert_int_equal(remedy_wire_get(&rd, e.conf, &back, &cause), 0);
    assert_true(wire_rd_done(&rd));
    case_eq(&c, &back, true);
    assert_ptr_equal(back.file, e.use->block->file->path); /* borrowed from this tree */
    assert_ptr_equal(back.block_name, e.use->block->name);
    remedy_case_free(&back);

    /* every cut of the record fails to decode, and leaves nothing allocated */
    for (size_t cut = 0; cut < b.len; cut += 7) {
        wire_rd_init(&rd, b.p, cut);
        assert_int_equal(remedy_wire_get(&rd, e.conf, &back, &cause), -1);
        assert_string_equal(cause, "a remedy case record does not decode");
        assert_null(back.upstream);
        free(cause);
        cause = NULL;
    }

    /* a config without that block: the case cannot be placed */
    static const char other_text[] = "events {}\nhttp {\n}\n";
    struct ngxconf *other = ngxconf_parse_mem(e.conf_path, other_text, strlen(other_text));
    wire_rd_init(&rd, b.p, b.len);
    assert_int_equal(remedy_wire_get(&rd, other, &back, &cause), -1);
    assert_non_null(
        strstr(cause, ":6: the location block of the planned case is not in the config"));
    free(cause);
    ngxconf_free(other);

    remedy_case_free(&c);
    buf_free(&b);
    buf_free(&said);
    plan_env_free(&e);
}

struct plan_seen {
    bool done;
    enum job_status status;
    struct remedy_case *c;
    struct buf said;
};

static void
rj_progress(const char *msg, void *arg)
{
    struct plan_seen *s = arg;
    buf_addf(&s->said, "%s|", msg);
}

static void
rj_done(struct remedy_case *c, const struct job_outcome *o, void *arg)
{
    struct plan_seen *s = arg;

    s->done = true;
    s->status = o->status;
    s->c = c;
}

static void
the_remedy_job_reports_each_candidate_and_returns_the_plan(void **state)
{
    struct plan_env e;
    struct remedy_case c;
    struct buf said = BUF_INIT;
    struct evloop *loop = evloop_new();
    struct job_runner *jr = job_runner_new(loop);
    struct plan_seen s = {0};
    struct remedy_job_cbs cbs = {rj_progress, rj_done, &s};
    char *cause = NULL;
    int ticks = 0;

    (void)state;
    plan_env_init(&e, "/ss/");
    plan_in_process(&e, &c, &said);
    evloop_timer_add(loop, 10, 10, tick, &ticks);
    assert_non_null(remedy_wire_job_start(jr, e.conf, e.use, 0, &e.ro, &cbs, &cause));
    run_until(loop, &s.done);
    assert_int_equal(s.status, JOB_OK);
    assert_non_null(s.c);
    assert_string_equal(buf_str(&s.said), buf_str(&said)); /* the same steps, in order */
    case_eq(&c, s.c, false);
    assert_true(ticks > 0);
    remedy_case_free(s.c);
    free(s.c);
    remedy_case_free(&c);
    buf_free(&said);
    buf_free(&s.said);
    job_runner_free(jr);
    evloop_free(loop);
    plan_env_free(&e);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(probe_results_survive_the_wire_field_by_field),
        cmocka_unit_test(a_cut_or_corrupt_probe_record_never_decodes),
        cmocka_unit_test(the_probe_job_returns_what_an_in_process_probe_returns),
        cmocka_unit_test(a_cancelled_probe_job_leaves_the_results_not_tried),
        cmocka_unit_test(a_planned_case_survives_the_wire_and_finds_its_block_again),
        cmocka_unit_test(the_remedy_job_reports_each_candidate_and_returns_the_plan),
    };
    if (access("/usr/bin/openssl", X_OK) != 0) {
        printf("1..0 # SKIP no openssl\n");
        return 0;
    }
    return cmocka_run_group_tests(tests, lab_up, lab_down);
}
