// SMEPilot runtime: the SME ABI support routines of AAPCS64 ("SME support
// routines", section 8.1), for aarch64 Linux (ELF).
//
// Code that LLVM/MLIR compiles for SME calls these routines by name:
//   __arm_sme_state       which of SME, PSTATE.SM, PSTATE.ZA and TPIDR2_EL0
//                         the thread has (streaming-compatible code asks it
//                         before changing mode);
//   __arm_tpidr2_save     commit a pending lazy save: spill the live slices of
//                         ZA into the buffer named by the TPIDR2 block
//                         (every new-ZA function calls it on entry);
//   __arm_tpidr2_restore  fill ZA back from a TPIDR2 block after a callee
//                         committed the lazy save;
//   __arm_za_disable      commit, clear TPIDR2_EL0, turn ZA off;
//   __arm_get_current_vg  the current vector granule count (for unwinding).
// Nothing on this machine provides them for aarch64 (no compiler-rt builtins,
// GCC 12's libgcc predates them, MLIR's stub library is host-only and its
// stubs do nothing, which silently loses ZA contents). So the runtime carries
// its own, written from the specification.
//
// Calling contract. These are not ordinary C functions: callers rely on a far
// larger set of preserved registers than AAPCS64's, so they are written in
// assembly and use only the registers the specification lets them clobber:
//   __arm_sme_state       clobbers x0, x1 (results), x16, x17
//   __arm_tpidr2_save     clobbers x14-x17          (x0-x13 preserved)
//   __arm_tpidr2_restore  clobbers x14-x17          (x0-x13 preserved)
//   __arm_za_disable      clobbers x14-x17          (x0-x13 preserved)
//   __arm_get_current_vg  clobbers x0 (result), x16, x17
// plus the condition flags. Z0-Z31, P0-P15, x19-x29 and SP are untouched, and
// each works in and out of streaming mode. The symbols are marked
// .variant_pcs so that a dynamic linker never routes a call to them through a
// lazy-binding trampoline that assumes the base procedure call standard.
//
// Knowing whether the thread has SME must not cost a call (getauxval would
// clobber registers), so an initializer in .init_array (priority 101, before
// every default-priority C++ constructor) reads AT_HWCAP/AT_HWCAP2 once into
// `sme_abi_flags`. A routine called before that initializer ran (only possible
// from an initializer of priority <= 101) reports it and aborts rather than
// guess.
//
// Errors the specification says to abort on (nonzero reserved bytes in a
// TPIDR2 block, __arm_tpidr2_restore with TPIDR2_EL0 still set) and misuse
// that would otherwise fault on an SME instruction (restore without SME, with
// ZA off, or with a null block) print one line naming the routine and the
// problem on stderr and call abort().
//
// docs/sme-abi.md describes the routines and their tests.

#if defined(__aarch64__) && defined(__ELF__)

        .arch   armv9-a+sme

// Bits of sme_abi_flags.
#define FLAG_INITIALIZED 0
#define FLAG_SME 1
#define FLAG_SVE 2

// getauxval keys (<elf.h>) and the HWCAP bits (Linux
// arch/arm64/include/uapi/asm/hwcap.h).
#define AT_HWCAP 16
#define AT_HWCAP2 26
#define HWCAP_SVE_BIT 22
#define HWCAP2_SME_BIT 23

// Loads sme_abi_flags into xREG.
.macro  load_flags reg
        adrp    \reg, sme_abi_flags
        ldr     \reg, [\reg, :lo12:sme_abi_flags]
.endm

// Branches to sme_abi_fatal with the message `label` (x14 = address,
// x15 = length).
.macro  fatal label
        adrp    x14, \label
        add     x14, x14, :lo12:\label
        mov     x15, #(\label\()_end - \label)
        b       sme_abi_fatal
.endm

.macro  begin_function name
        .globl  \name
        .type   \name, %function
        .variant_pcs \name
        .p2align 2
\name:
        .cfi_startproc
.endm

.macro  end_function name
        .cfi_endproc
        .size   \name, . - \name
.endm

// The messages come first: `fatal` needs their lengths as constants.
        .section .rodata, "a", %progbits
.macro  message label, text
\label:
        .ascii  "\text\n"
\label\()_end:
.endm
        message msg_uninitialized, "smepilot_rt: an SME ABI routine (__arm_*) was called before the runtime's initializer read AT_HWCAP2; call SME code from main() or a constructor of priority above 101"
        message msg_save_reserved, "smepilot_rt: __arm_tpidr2_save: the TPIDR2 block at TPIDR2_EL0 has nonzero reserved bytes (offsets 10-15); this runtime implements only the AAPCS64 revision where they are zero"
        message msg_restore_no_sme, "smepilot_rt: __arm_tpidr2_restore called on a thread without SME (HWCAP2_SME clear)"
        message msg_restore_tpidr2_set, "smepilot_rt: __arm_tpidr2_restore called with TPIDR2_EL0 not null (the lazy save was not committed; abandon it instead of restoring)"
        message msg_restore_null_block, "smepilot_rt: __arm_tpidr2_restore called with a null TPIDR2 block pointer"
        message msg_restore_za_off, "smepilot_rt: __arm_tpidr2_restore called with PSTATE.ZA clear (it has a shared-ZA interface: turn ZA on with smstart za first)"
        message msg_restore_reserved, "smepilot_rt: __arm_tpidr2_restore: the TPIDR2 block has nonzero reserved bytes (offsets 10-15); this runtime implements only the AAPCS64 revision where they are zero"


        .text

// uint64_t x0, x1 __arm_sme_state(void)
//   x0 = bit 63: the thread has SME; bit 62: it has TPIDR2_EL0 (both or
//        neither on Linux: TPIDR2_EL0 comes with SME); bits 1:0: PSTATE.ZA and
//        PSTATE.SM (SVCR's layout). Zero without SME.
//   x1 = TPIDR2_EL0, zero without SME.
begin_function __arm_sme_state
        load_flags x16
        tbz     x16, #FLAG_INITIALIZED, 1f
        tbz     x16, #FLAG_SME, 2f
        mrs     x0, svcr
        and     x0, x0, #3
        orr     x0, x0, #0xc000000000000000
        mrs     x1, tpidr2_el0
        ret
2:      mov     x0, #0
        mov     x1, #0
        ret
1:      fatal   msg_uninitialized
end_function __arm_sme_state

// void __arm_tpidr2_save(void)
//   Without SME, or with TPIDR2_EL0 null: nothing. Otherwise checks that the
//   block's reserved bytes 10-15 are zero (aborts if not) and, when
//   za_save_buffer is nonnull and ZA is on, stores the first
//   num_za_save_slices horizontal slices of ZA (at most SVL.B of them: ZA has
//   no more) to za_save_buffer, SVL.B bytes each, in slice order. Leaves
//   TPIDR2_EL0 and PSTATE.ZA unchanged: ZA stays dormant.
//   With ZA off, ZA holds nothing to save (a dormant ZA is on by definition),
//   so the routine does nothing rather than fault on the store.
begin_function __arm_tpidr2_save
tpidr2_save_body:
        load_flags x16
        tbz     x16, #FLAG_INITIALIZED, 9f
        tbz     x16, #FLAG_SME, 1f
        mrs     x16, tpidr2_el0
        cbz     x16, 1f
        ldr     x17, [x16, #8]          // num_za_save_slices | reserved << 16
        lsr     x14, x17, #16
        cbnz    x14, 8f
        ldr     x16, [x16]              // za_save_buffer
        cbz     x16, 1f
        cbz     x17, 1f
        mrs     x14, svcr
        tbz     x14, #1, 1f             // PSTATE.ZA clear: nothing live
        rdsvl   x14, #1                 // SVL.B: bytes per slice, slices in ZA
        cmp     x17, x14
        csel    x17, x17, x14, ls
        mov     w15, #0
2:      str     za[w15, 0], [x16]
        add     x16, x16, x14
        add     w15, w15, #1
        cmp     w15, w17
        b.lo    2b
1:      ret
8:      fatal   msg_save_reserved
9:      fatal   msg_uninitialized
end_function __arm_tpidr2_save

// void __arm_tpidr2_restore(const tpidr2_block *blk /* x0 */)
//   Shared-ZA: ZA must be on. Aborts if TPIDR2_EL0 is not null, if the
//   block's reserved bytes are not zero, or (misuse that would otherwise
//   fault) without SME, with ZA off, or with a null block. Loads the first
//   num_za_save_slices slices of ZA (at most SVL.B) from za_save_buffer; a
//   null buffer or zero slices restore nothing.
begin_function __arm_tpidr2_restore
        load_flags x16
        tbz     x16, #FLAG_INITIALIZED, 9f
        tbz     x16, #FLAG_SME, 3f
        mrs     x16, tpidr2_el0
        cbnz    x16, 4f
        cbz     x0, 5f
        mrs     x14, svcr
        tbz     x14, #1, 6f
        ldr     x17, [x0, #8]
        lsr     x14, x17, #16
        cbnz    x14, 8f
        ldr     x16, [x0]
        cbz     x16, 1f
        cbz     x17, 1f
        rdsvl   x14, #1
        cmp     x17, x14
        csel    x17, x17, x14, ls
        mov     w15, #0
2:      ldr     za[w15, 0], [x16]
        add     x16, x16, x14
        add     w15, w15, #1
        cmp     w15, w17
        b.lo    2b
1:      ret
3:      fatal   msg_restore_no_sme
4:      fatal   msg_restore_tpidr2_set
5:      fatal   msg_restore_null_block
6:      fatal   msg_restore_za_off
8:      fatal   msg_restore_reserved
9:      fatal   msg_uninitialized
end_function __arm_tpidr2_restore

// void __arm_za_disable(void)
//   Without SME: nothing. Otherwise commits the lazy save (as
//   __arm_tpidr2_save), sets TPIDR2_EL0 to null (first: a dormant ZA must not
//   be turned off), then clears PSTATE.ZA. PSTATE.SM is unchanged.
begin_function __arm_za_disable
        load_flags x16
        tbz     x16, #FLAG_INITIALIZED, 9f
        tbz     x16, #FLAG_SME, 1f
        stp     x29, x30, [sp, #-16]!
        .cfi_def_cfa_offset 16
        .cfi_offset w30, -8
        .cfi_offset w29, -16
        mov     x29, sp
        bl      tpidr2_save_body        // preserves x0-x13
        ldp     x29, x30, [sp], #16
        .cfi_def_cfa_offset 0
        .cfi_restore w30
        .cfi_restore w29
        msr     tpidr2_el0, xzr
        smstop  za
1:      ret
9:      fatal   msg_uninitialized
end_function __arm_za_disable

// uint64_t __arm_get_current_vg(void)
//   In streaming mode: the streaming VG (SVL in 64-bit granules). Otherwise,
//   with SVE: the (non-streaming) VG. Otherwise 0.
begin_function __arm_get_current_vg
        load_flags x16
        tbz     x16, #FLAG_INITIALIZED, 9f
        tbz     x16, #FLAG_SME, 1f
        mrs     x17, svcr
        tbz     x17, #0, 1f
        rdsvl   x0, #1
        lsr     x0, x0, #3
        ret
1:      tbz     x16, #FLAG_SVE, 2f
        cntd    x0
        ret
2:      mov     x0, #0
        ret
9:      fatal   msg_uninitialized
end_function __arm_get_current_vg

// Writes the message at x14 (x15 bytes) to stderr and aborts. Leaves
// streaming mode first (write and abort are ordinary non-streaming code).
// Reached by a branch, so x30 still holds the SME routine's return address:
// the frame record below makes a debugger's backtrace show its caller.
        .type   sme_abi_fatal, %function
        .p2align 2
sme_abi_fatal:
        .cfi_startproc
        stp     x29, x30, [sp, #-16]!
        .cfi_def_cfa_offset 16
        .cfi_offset w30, -8
        .cfi_offset w29, -16
        mov     x29, sp
        load_flags x16
        tbz     x16, #FLAG_SME, 1f
        smstop  sm
1:      mov     x0, #2                  // stderr
        mov     x1, x14
        mov     x2, x15
        mov     x8, #64                 // __NR_write
        svc     #0
        bl      abort
        .cfi_endproc
        .size   sme_abi_fatal, . - sme_abi_fatal

// Reads the hardware capabilities once, before C++ constructors run.
        .type   sme_abi_init, %function
        .p2align 2
sme_abi_init:
        .cfi_startproc
        stp     x29, x30, [sp, #-32]!
        .cfi_def_cfa_offset 32
        .cfi_offset w30, -24
        .cfi_offset w29, -32
        str     x19, [sp, #16]
        .cfi_offset w19, -16
        mov     x29, sp
        mov     x0, #AT_HWCAP
        bl      getauxval
        mov     x19, x0
        mov     x0, #AT_HWCAP2
        bl      getauxval
        ubfx    x0, x0, #HWCAP2_SME_BIT, #1
        lsl     x0, x0, #FLAG_SME
        ubfx    x1, x19, #HWCAP_SVE_BIT, #1
        orr     x0, x0, x1, lsl #FLAG_SVE
        orr     x0, x0, #(1 << FLAG_INITIALIZED)
        adrp    x1, sme_abi_flags
        str     x0, [x1, :lo12:sme_abi_flags]
        ldr     x19, [sp, #16]
        ldp     x29, x30, [sp], #32
        .cfi_def_cfa_offset 0
        ret
        .cfi_endproc
        .size   sme_abi_init, . - sme_abi_init

        .section .init_array.101, "aw", %init_array
        .p2align 3
        .xword  sme_abi_init

        .bss
        .p2align 3
        .type   sme_abi_flags, %object
sme_abi_flags:
        .zero   8
        .size   sme_abi_flags, 8

        .section .note.GNU-stack, "", %progbits

#endif
