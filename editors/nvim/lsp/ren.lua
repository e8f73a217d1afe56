-- ren-lsp for Neovim 0.11+: `vim.lsp.enable('ren')` starts it for file buffers with this
-- configuration. Change any field with `vim.lsp.config('ren', { ... })`, e.g.
-- `cmd = { '/path/to/ren-lsp' }` or `settings = { ren = { maxTokens = 8192 } }`.
-- The key is never configured here: ren-lsp reads REN_API_KEY or runs apiKeyCommand.
return require('ren').lsp_config()
