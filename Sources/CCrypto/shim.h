// OpenSSL libcrypto: CSRs, X.509 chain checks, firmware signature checks.
#ifndef SWIFTEVSE_CCRYPTO_SHIM_H
#define SWIFTEVSE_CCRYPTO_SHIM_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <openssl/pem.h>
#include <openssl/err.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/asn1.h>
#include <openssl/crypto.h>
#include <openssl/objects.h>

// Swift cannot call function-like macros or import macros built from other macros with `|`,
// so the few OpenSSL macros OCPPSecurity needs are re-exposed as inline functions here.

static inline long swiftevse_bio_mem_contents(BIO *bio, const char **contents) {
    char *pointer = NULL;
    long length = BIO_get_mem_data(bio, &pointer);
    *contents = pointer;
    return length;
}

static inline void swiftevse_openssl_free(void *pointer) {
    OPENSSL_free(pointer);
}

static inline int swiftevse_mbstring_utf8(void) {
    return MBSTRING_UTF8;
}

static inline unsigned long swiftevse_name_flags_rfc2253(void) {
    return XN_FLAG_RFC2253;
}

static inline STACK_OF(X509) *swiftevse_x509_stack_new(void) {
    return sk_X509_new_null();
}

// On success the stack owns a new reference to `certificate`.
static inline int swiftevse_x509_stack_push_ref(STACK_OF(X509) *stack, X509 *certificate) {
    if (X509_up_ref(certificate) != 1) {
        return 0;
    }
    if (sk_X509_push(stack, certificate) <= 0) {
        X509_free(certificate);
        return 0;
    }
    return 1;
}

static inline int swiftevse_x509_stack_count(const STACK_OF(X509) *stack) {
    return sk_X509_num(stack);
}

static inline X509 *swiftevse_x509_stack_get(const STACK_OF(X509) *stack, int index) {
    return sk_X509_value(stack, index);
}

static inline void swiftevse_x509_stack_free_all(STACK_OF(X509) *stack) {
    sk_X509_pop_free(stack, X509_free);
}

#endif
