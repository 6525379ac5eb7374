// Prefetch: a request for the cache line at `address`, that the optimiser
// cannot drop.
//
// GCC 12 drops __builtin_prefetch from small helper functions: its
// pure-const analysis finds that a function whose only effect is a
// prefetch has no side effects, marks it const, and deletes the calls (no
// result is used). The walk engine's prefetches of the next vertex's record
// and of prev's lists lived in such helpers and were never in the binary
// (objdump: only the inline prefetch of the picked neighbour was). An asm
// volatile statement is never deleted.
#pragma once

namespace gr {

inline void Prefetch(const void* address) {
#if defined(__x86_64__) || defined(__i386__)
  asm volatile("prefetcht0 %0" : : "m"(*static_cast<const char*>(address)));
#else
  __builtin_prefetch(address);
#endif
}

}  // namespace gr
