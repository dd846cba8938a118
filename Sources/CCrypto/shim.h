// OpenSSL libcrypto: CSRs, X.509 chain checks, firmware signature checks.
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/pem.h>
#include <openssl/err.h>
