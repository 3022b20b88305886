#ifndef CCURL_SHIM_H
#define CCURL_SHIM_H

#include <curl/curl.h>

// libcurl's setopt/getinfo functions are variadic, which Swift cannot call.
// Each wrapper below fixes one argument type so that Swift sees a plain C function.

/// Wraps the variadic `curl_easy_setopt` for options that take a `long`.
static inline CURLcode ccurl_easy_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

/// Wraps the variadic `curl_easy_setopt` for options that take a `curl_off_t`.
static inline CURLcode ccurl_easy_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

/// Wraps the variadic `curl_easy_setopt` for options that take a C string (libcurl copies it).
static inline CURLcode ccurl_easy_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

/// Wraps the variadic `curl_easy_setopt` for options that take an opaque pointer.
static inline CURLcode ccurl_easy_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

/// Wraps the variadic `curl_easy_setopt` for options that take a header list.
static inline CURLcode ccurl_easy_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}

/// Wraps the variadic `curl_easy_setopt` for the write and header callbacks.
static inline CURLcode ccurl_easy_setopt_write_function(CURL *handle, CURLoption option, curl_write_callback value) {
    return curl_easy_setopt(handle, option, value);
}

/// Wraps the variadic `curl_easy_getinfo` for information of type `long`.
static inline CURLcode ccurl_easy_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

/// Wraps the variadic `curl_easy_getinfo` for information of type `curl_off_t` (the `_T` timings).
static inline CURLcode ccurl_easy_getinfo_off_t(CURL *handle, CURLINFO info, curl_off_t *value) {
    return curl_easy_getinfo(handle, info, value);
}

/// Wraps the variadic `curl_multi_setopt` for options that take a `long`.
static inline CURLMcode ccurl_multi_setopt_long(CURLM *handle, CURLMoption option, long value) {
    return curl_multi_setopt(handle, option, value);
}

/// Reads the result code of a finished transfer out of the `CURLMsg` union.
static inline CURLcode ccurl_msg_result(const CURLMsg *message) {
    return message->data.result;
}

#endif
