// SMEPilot runtime: the matrix unit's calibration kernel (calibrate.h), for
// aarch64 Linux (ELF).
//
// void smepilot_rt_calibrate_mopa(uint64_t iterations, int kind)
//   Runs `iterations` rounds of four outer products, one into each 32-bit ZA
//   tile (independent accumulators, so the unit's throughput bounds the
//   loop), in streaming mode: kind 0 fmopa (f32), 1 bfmopa (bf16 pairs
//   widened to f32), 2 smopa (i8 quadruples widened to i32). The operands'
//   values do not matter for the timing.
//
// A private-ZA function (AAPCS64 SME): it commits any pending lazy save of
// ZA through __arm_za_disable before it turns ZA on, and leaves streaming
// mode and ZA off. smstart and smstop zero the vector registers, so the
// callee-saved d8-d15 are saved around them.

#if defined(__aarch64__) && defined(__ELF__)

        .arch   armv9-a+sme
        .text
        .globl  smepilot_rt_calibrate_mopa
        .type   smepilot_rt_calibrate_mopa, %function
        .p2align 2
smepilot_rt_calibrate_mopa:
        .cfi_startproc
        stp     x29, x30, [sp, #-80]!
        .cfi_def_cfa_offset 80
        .cfi_offset w29, -80
        .cfi_offset w30, -72
        mov     x29, sp
        stp     d8, d9, [sp, #16]
        stp     d10, d11, [sp, #32]
        stp     d12, d13, [sp, #48]
        stp     d14, d15, [sp, #64]
        // __arm_za_disable preserves x0-x13.
        mov     x9, x0
        mov     w10, w1
        bl      __arm_za_disable
        cbz     x9, 9f
        smstart
        ptrue   p0.b
        fmov    z0.s, #1.0
        fmov    z1.s, #0.5
        zero    {za}
        cmp     w10, #1
        b.eq    2f
        b.gt    3f
1:      fmopa   za0.s, p0/m, p0/m, z0.s, z1.s
        fmopa   za1.s, p0/m, p0/m, z0.s, z1.s
        fmopa   za2.s, p0/m, p0/m, z0.s, z1.s
        fmopa   za3.s, p0/m, p0/m, z0.s, z1.s
        subs    x9, x9, #1
        b.ne    1b
        b       8f
2:      bfmopa  za0.s, p0/m, p0/m, z0.h, z1.h
        bfmopa  za1.s, p0/m, p0/m, z0.h, z1.h
        bfmopa  za2.s, p0/m, p0/m, z0.h, z1.h
        bfmopa  za3.s, p0/m, p0/m, z0.h, z1.h
        subs    x9, x9, #1
        b.ne    2b
        b       8f
3:      smopa   za0.s, p0/m, p0/m, z0.b, z1.b
        smopa   za1.s, p0/m, p0/m, z0.b, z1.b
        smopa   za2.s, p0/m, p0/m, z0.b, z1.b
        smopa   za3.s, p0/m, p0/m, z0.b, z1.b
        subs    x9, x9, #1
        b.ne    3b
8:      smstop
9:      ldp     d8, d9, [sp, #16]
        ldp     d10, d11, [sp, #32]
        ldp     d12, d13, [sp, #48]
        ldp     d14, d15, [sp, #64]
        ldp     x29, x30, [sp], #80
        .cfi_def_cfa_offset 0
        .cfi_restore w30
        .cfi_restore w29
        ret
        .cfi_endproc
        .size   smepilot_rt_calibrate_mopa, . - smepilot_rt_calibrate_mopa

#endif

        .section .note.GNU-stack, "", %progbits
