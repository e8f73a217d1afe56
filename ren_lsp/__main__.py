from ren_lsp.cli import main

main()
