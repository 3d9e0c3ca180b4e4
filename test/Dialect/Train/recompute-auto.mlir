// fp8-recompute, mode auto: the shortest prefix of the candidates, cheapest recompute
// FLOPs per byte saved first (the two gelus, then blk.0, then blk.1), whose estimated
// peak (arguments + the most op-result bytes live at one op; 425984 bytes with nothing
// recomputed) fits the budget; every candidate when none does.
// RUN: fp8-opt --fp8-recompute="mode=auto budget=430000B" %S/Inputs/recompute-blocks.mlir | FileCheck %s --check-prefix=FITS
// RUN: fp8-opt --fp8-recompute="mode=auto budget=400000B" %S/Inputs/recompute-blocks.mlir | FileCheck %s --check-prefix=ONE
// RUN: fp8-opt --fp8-recompute="mode=auto budget=370000B" %S/Inputs/recompute-blocks.mlir | FileCheck %s --check-prefix=TWO
// RUN: fp8-opt --fp8-recompute="mode=auto budget=340000B" %S/Inputs/recompute-blocks.mlir | FileCheck %s --check-prefix=BLOCK
// RUN: fp8-opt --fp8-recompute="mode=auto budget=100000B" %S/Inputs/recompute-blocks.mlir | FileCheck %s --check-prefix=ALL
// The budget from train.config (memory_budget, bytes), as the front end writes it:
// RUN: sed 's/^func.func/module attributes {train.config = {memory_budget = 370000 : i64}} {\nfunc.func/; $a}' %S/Inputs/recompute-blocks.mlir | fp8-opt --fp8-recompute | FileCheck %s --check-prefix=TWO
// RUN: not fp8-opt --fp8-recompute="budget=24GB" %S/Inputs/recompute-blocks.mlir 2>&1 | FileCheck %s --check-prefix=BADUNIT
// RUN: not fp8-opt --fp8-recompute="mode=some" %S/Inputs/recompute-blocks.mlir 2>&1 | FileCheck %s --check-prefix=BADMODE

// FITS-NOT: fp8c.recompute

// ONE: {fp8c.recompute = {train_step = {blocks = 0 : i64, budget = 400000 : i64, bytes = 32768 : i64, estimate_after = 393216 : i64, estimate_before = 425984 : i64, fits_estimate = true, {{.*}}mode = "auto"{{.*}}values = 1 : i64}}
// ONE-LABEL: func.func @train_step
// ONE: %[[A0:.*]] = train.linear
// ONE: %[[G0:.*]] = train.gelu %[[A0]]
// ONE: train.add
// ONE: %[[G0R:.*]] = train.gelu %[[A0]]
// ONE-NEXT: train.matmul %{{.*}}, %[[G0R]] {transpose_lhs}

// TWO: {fp8c.recompute = {train_step = {blocks = 0 : i64, {{.*}}estimate_after = 360448 : i64{{.*}}values = 2 : i64}}

// BLOCK: {fp8c.recompute = {train_step = {blocks = 1 : i64, {{.*}}estimate_after = 327680 : i64, {{.*}}fits_estimate = true{{.*}}values = 3 : i64}}
// BLOCK-LABEL: func.func @train_step
// BLOCK-SAME: (%[[X:[^:]*]]: tensor<128x128xbf16>, %[[W0:[^:]*]]: tensor<128x128xbf16>, %{{[^:]*}}: tensor<128x128xbf16>, %{{[^:]*}}: tensor<128x128xbf16>, %{{[^:]*}}: tensor<128x128xbf16>, %[[DY:[^:]*]]: tensor<128x128xbf16>)
// BLOCK: %[[DR0:.*]] = train.add %[[DY]]
// BLOCK-NEXT: %[[A0R:.*]] = train.linear %[[X]], %[[W0]]
// BLOCK-NEXT: %[[G0R:.*]] = train.gelu %[[A0R]]
// BLOCK-NEXT: train.matmul %[[DR0]], %[[G0R]] {transpose_lhs}

// ALL: {fp8c.recompute = {train_step = {blocks = 2 : i64, budget = 100000 : i64, {{.*}}fits_estimate = false{{.*}}values = 4 : i64}}

// BADUNIT: error: fp8-recompute: budget: expected a size: a number and one of the units B, KiB, MiB, GiB (e.g. 24GiB, 1536MiB); got '24GB'
// BADMODE: error: recompute: expected one of: none, selective, full, auto; got 'some'
