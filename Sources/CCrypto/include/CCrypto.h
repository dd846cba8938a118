// BoringSSL (swift-nio-ssl's CNIOBoringSSL) for OCPPSecurity: CSRs, X.509 chain checks,
// firmware signature checks.
#ifndef SWIFTEVSE_CCRYPTO_SHIM_H
#define SWIFTEVSE_CCRYPTO_SHIM_H

#include "CNIOBoringSSL.h"

// Swift cannot call function-like macros or import macros built from other macros with `|`,
// so the few macros OCPPSecurity needs are re-exposed as inline functions here.

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

// The short name of an EC key's curve ("prime256v1"); NULL for another kind of key.
static inline const char *swiftevse_ec_curve_short_name(const EVP_PKEY *key) {
    const EC_KEY *ec = EVP_PKEY_get0_EC_KEY(key);
    if (ec == NULL) {
        return NULL;
    }
    const EC_GROUP *group = EC_KEY_get0_group(ec);
    return group == NULL ? NULL : OBJ_nid2sn(EC_GROUP_get_curve_name(group));
}

// 1 when the certificate is its own issuer (issuer name = subject name, and its key identifiers
// agree) and its own key verifies its signature; BoringSSL has no X509_self_signed.
static inline int swiftevse_x509_self_signed(X509 *certificate) {
    if (X509_check_issued(certificate, certificate) != X509_V_OK) {
        return 0;
    }
    EVP_PKEY *key = X509_get0_pubkey(certificate);
    return key != NULL && X509_verify(certificate, key) == 1 ? 1 : 0;
}

#endif
