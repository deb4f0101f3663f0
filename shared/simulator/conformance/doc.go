// Package conformance holds no code: its tests drive the tenant simulator through the real SDKs
// (azidentity, msgraph-sdk-go with the kiota Azure identity provider, azsecrets), to prove that the
// pipeline's clients work against it unchanged. They live in their own package so that the Graph SDK,
// slow to compile, is built once and only for them.
package conformance
