/* TLS for `fleetsim conform` beside the client context of conform_exchange.c:
 * the certificates made for a run (a server CA and the platform's certificate,
 * a device root CA, a device of it and one of another CA), the runner's server
 * context for --terminal --tls, and what a finished handshake is called in a
 * verdict.  Keys are EC P-256, certificates X.509 v3 signed with SHA-256, valid
 * from an hour ago for 30 days: made for one run, never reused. */
#include "harness/conform.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define CERT_DAYS 30

const char *conform_ssl_why(char *buf, size_t cap)
{
    unsigned long e = ERR_get_error();
    if (e == 0)
        snprintf(buf, cap, "%s", errno ? strerror(errno) : "no reason given");
    else
        ERR_error_string_n(e, buf, cap);
    ERR_clear_error();
    return buf;
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ex = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
    if (ex == NULL)
        return -1;
    int ok = X509_add_ext(cert, ex, -1);
    X509_EXTENSION_free(ex);
    return ok == 1 ? 0 : -1;
}

/* A certificate for key with common name cn, signed by issuer/ikey (NULL: by
 * itself, a CA); a CA can sign, a leaf names 127.0.0.1 and localhost. */
static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *ikey, long serial, bool ca)
{
    X509 *c = X509_new();
    if (c == NULL)
        return NULL;
    X509_NAME *name = X509_get_subject_name(c);
    bool ok = X509_set_version(c, 2) == 1 && ASN1_INTEGER_set(X509_get_serialNumber(c), serial) == 1 &&
              X509_gmtime_adj(X509_getm_notBefore(c), -3600) != NULL &&
              X509_gmtime_adj(X509_getm_notAfter(c), 86400L * CERT_DAYS) != NULL && X509_set_pubkey(c, key) == 1 &&
              X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0) == 1 &&
              X509_set_issuer_name(c, issuer ? X509_get_subject_name(issuer) : name) == 1;
    X509 *iss = issuer ? issuer : c;
    if (ok && ca)
        ok = add_ext(c, iss, NID_basic_constraints, "critical,CA:TRUE") == 0 &&
             add_ext(c, iss, NID_key_usage, "critical,keyCertSign,cRLSign") == 0 &&
             add_ext(c, iss, NID_subject_key_identifier, "hash") == 0;
    else if (ok)
        ok = add_ext(c, iss, NID_basic_constraints, "CA:FALSE") == 0 &&
             add_ext(c, iss, NID_key_usage, "critical,digitalSignature,keyAgreement") == 0 &&
             add_ext(c, iss, NID_ext_key_usage, "serverAuth,clientAuth") == 0 &&
             add_ext(c, iss, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost") == 0 &&
             add_ext(c, iss, NID_authority_key_identifier, "keyid") == 0;
    if (!ok || X509_sign(c, issuer ? ikey : key, EVP_sha256()) <= 0) {
        X509_free(c);
        return NULL;
    }
    return c;
}

static int write_pem(const char *dir, const char *name, X509 *cert, EVP_PKEY *key, char *err, size_t errcap)
{
    char path[1024], why[256];
    snprintf(path, sizeof path, "%s/%s.%s", dir, name, cert ? "crt" : "key");
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        snprintf(err, errcap, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (key)
        fchmod(fileno(f), 0600);
    int ok = cert ? PEM_write_X509(f, cert) : PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
    if (fclose(f) != 0 || ok != 1) {
        snprintf(err, errcap, "%s: cannot write it (%s)", path, conform_ssl_why(why, sizeof why));
        return -1;
    }
    return 0;
}

/* name.key and name.crt in dir: a new key and its certificate (issuer NULL: a CA). */
static int issue(const char *dir, const char *name, const char *cn, X509 *issuer, EVP_PKEY *ikey, long serial,
                 bool ca, X509 **cert_out, EVP_PKEY **key_out, char *err, size_t errcap)
{
    char why[256];
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    X509 *cert = key ? make_cert(key, cn, issuer, ikey, serial, ca) : NULL;
    if (cert == NULL) {
        snprintf(err, errcap, "the certificate \"%s\": %s", cn, conform_ssl_why(why, sizeof why));
        EVP_PKEY_free(key);
        return -1;
    }
    if (write_pem(dir, name, NULL, key, err, errcap) < 0 || write_pem(dir, name, cert, NULL, err, errcap) < 0) {
        X509_free(cert);
        EVP_PKEY_free(key);
        return -1;
    }
    if (cert_out)
        *cert_out = cert;
    else
        X509_free(cert);
    if (key_out)
        *key_out = key;
    else
        EVP_PKEY_free(key);
    return 0;
}

int conform_tls_make(const char *dir, char *err, size_t errcap)
{
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        snprintf(err, errcap, "%s: %s", dir, strerror(errno));
        return -1;
    }
    X509 *sca = NULL, *dca = NULL, *fca = NULL;
    EVP_PKEY *scak = NULL, *dcak = NULL, *fcak = NULL;
    int rc = -1;
    if (issue(dir, "server-ca", "fleetsim conform server CA", NULL, NULL, 1, true, &sca, &scak, err, errcap) == 0 &&
        issue(dir, "server", "127.0.0.1", sca, scak, 2, false, NULL, NULL, err, errcap) == 0 &&
        issue(dir, "device-ca", "fleetsim conform device root CA", NULL, NULL, 1, true, &dca, &dcak, err,
              errcap) == 0 &&
        issue(dir, "device", "fleetsim conform device", dca, dcak, 2, false, NULL, NULL, err, errcap) == 0 &&
        issue(dir, "foreign-ca", "fleetsim conform foreign CA", NULL, NULL, 1, true, &fca, &fcak, err, errcap) == 0 &&
        issue(dir, "foreign", "fleetsim conform foreign device", fca, fcak, 2, false, NULL, NULL, err, errcap) == 0)
        rc = 0;
    X509_free(sca);
    X509_free(dca);
    X509_free(fca);
    EVP_PKEY_free(scak);
    EVP_PKEY_free(dcak);
    EVP_PKEY_free(fcak);
    return rc;
}

void *conform_tls_server_new(const char *cert, const char *key, const char *client_ca, char *err, size_t errcap)
{
    char why[256];
    if (cert == NULL || key == NULL) {
        snprintf(err, errcap, "--tls-cert and --tls-key go together");
        return NULL;
    }
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL) {
        snprintf(err, errcap, "cannot make a TLS context: %s", conform_ssl_why(why, sizeof why));
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
        snprintf(err, errcap, "--tls-cert %s / --tls-key %s: not a PEM certificate and its key (%s)", cert, key,
                 conform_ssl_why(why, sizeof why));
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (client_ca) {
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(client_ca);
        if (names == NULL || SSL_CTX_load_verify_locations(ctx, client_ca, NULL) != 1) {
            snprintf(err, errcap, "--client-ca %s: not a readable PEM CA certificate (%s)", client_ca,
                     conform_ssl_why(why, sizeof why));
            sk_X509_NAME_pop_free(names, X509_NAME_free);
            SSL_CTX_free(ctx);
            return NULL;
        }
        SSL_CTX_set_client_CA_list(ctx, names);
        /* a device without a certificate, or with one the CA did not issue, is refused */
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    }
    return ctx;
}
