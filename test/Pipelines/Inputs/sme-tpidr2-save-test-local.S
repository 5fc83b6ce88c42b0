// TEST-LOCAL SME ABI routine, for the QEMU harness of test/Pipelines only.
// To be replaced by the runtime's runtime/src/sme_abi_aarch64.S once that
// lands: link that object instead of this one.
//
// __arm_tpidr2_save (AAPCS64, SME support routines): commits a lazy ZA save.
// If TPIDR2_EL0 is null it does nothing. Otherwise it reads the TPIDR2 block
// {za_save_buffer: 8 bytes, num_za_save_slices: 2 bytes, reserved: 6 bytes}:
// nonzero reserved bytes abort (brk), zero slices do nothing, a null buffer
// with slices aborts, else the first min(num_za_save_slices, SVL.B) ZA
// horizontal slices are stored to za_save_buffer, SVL.B bytes each.
// Clobbers only x14-x17 and the flags (the routine's reduced clobber set).
// SME kernels compiled with za-mode=new-za call it from their prologue when
// TPIDR2_EL0 is set; the harness never sets it, but the routine is correct.
        .arch armv9-a+sme
        .text
        .globl  __arm_tpidr2_save
        .type   __arm_tpidr2_save, %function
        .p2align 2
__arm_tpidr2_save:
        mrs     x16, TPIDR2_EL0
        cbz     x16, 2f
        ldr     x17, [x16, #8]
        lsr     x15, x17, #16
        cbnz    x15, 3f
        and     x15, x17, #0xffff
        cbz     x15, 2f
        ldr     x17, [x16]
        cbz     x17, 3f
        rdsvl   x16, #1
        cmp     x15, x16
        csel    x15, x15, x16, lo
        mov     x14, #0
1:      str     za[w14, #0], [x17]
        addsvl  x17, x17, #1
        add     x14, x14, #1
        cmp     x14, x15
        b.lo    1b
2:      ret
3:      brk     #0x1
        .size   __arm_tpidr2_save, .-__arm_tpidr2_save
        .section .note.GNU-stack,"",%progbits
