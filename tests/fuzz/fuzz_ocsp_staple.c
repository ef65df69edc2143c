/* libFuzzer target: any bytes as the stapled OCSP response a TLS server sent, checked
 * for two chains as a handshake verified them: the gateway's certificate and its CA,
 * and a revoked gateway certificate and the same CA (tests/tls-certs.sh, made with
 * openssl in FLEETSIM_FUZZ_OCSP_DIR by tests/fuzz/ocsp-staple-seeds.sh, which also
 * puts real staples for both, made by openssl's responder, in the seed corpus).
 * The answer is one of good, revoked, unknown or error, never pending; never a
 * crash, a leak, or an OpenSSL error left queued. */
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "sim/net/ocsp.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static STACK_OF(X509) *chains[2];
static X509_STORE *store;

static X509 *load(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    X509 *c = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    if (!c) {
        fprintf(stderr, "fuzz_ocsp_staple: cannot read the certificate %s (run tests/fuzz/ocsp-staple-seeds.sh "
                        "DIR and set FLEETSIM_FUZZ_OCSP_DIR=DIR)\n", path);
        exit(1);
    }
    return c;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *dir = getenv("FLEETSIM_FUZZ_OCSP_DIR");
    if (!dir || !dir[0]) {
        fprintf(stderr, "fuzz_ocsp_staple: FLEETSIM_FUZZ_OCSP_DIR is not set (tests/fuzz/ocsp-staple-seeds.sh)\n");
        exit(1);
    }
    X509 *ca = load(dir, "server-ca.crt");
    const char *leaf[2] = {"server.crt", "server-revoked.crt"};
    for (int i = 0; i < 2; i++) {
        chains[i] = sk_X509_new_null();
        if (!chains[i] || !sk_X509_push(chains[i], load(dir, leaf[i])) || !X509_up_ref(ca) ||
            !sk_X509_push(chains[i], ca))
            exit(1);
    }
    store = X509_STORE_new();
    if (!store || X509_STORE_add_cert(store, ca) != 1)
        exit(1);
    X509_free(ca); /* the chains and the store hold it */
    /* the seeds say what they were made to say: else the chains are not theirs, and
     * the fuzzing would never get past the signer check */
    const struct { const char *file; int chain; enum ocsp_status want; } seeds[] = {
        {"seeds/good.der", 0, OCSP_ST_GOOD},
        {"seeds/revoked.der", 1, OCSP_ST_REVOKED},
        {"seeds/good.der", 1, OCSP_ST_ERROR}, /* a staple for another certificate */
    };
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        static uint8_t der[16384];
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, seeds[i].file);
        FILE *f = fopen(path, "rb");
        size_t n = f ? fread(der, 1, sizeof der, f) : 0;
        if (f)
            fclose(f);
        enum ocsp_status st = ocsp_staple_status(der, n, chains[seeds[i].chain], store);
        if (!n || st != seeds[i].want) {
            fprintf(stderr, "fuzz_ocsp_staple: %s against chain %d: status %d, not %d (made more than a day "
                            "ago? run tests/fuzz/ocsp-staple-seeds.sh again)\n", path, seeds[i].chain, st,
                    seeds[i].want);
            exit(1);
        }
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int i = 0; i < 2; i++) {
        enum ocsp_status st = ocsp_staple_status(data, size, chains[i], store);
        if (st != OCSP_ST_GOOD && st != OCSP_ST_REVOKED && st != OCSP_ST_UNKNOWN && st != OCSP_ST_ERROR)
            abort();
        if (ERR_peek_error() != 0)
            abort(); /* the check leaves no error queued for the next TLS call */
    }
    return 0;
}
