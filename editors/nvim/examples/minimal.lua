-- The least a Neovim 0.11+ user needs in init.lua, with the plugin installed and ren-lsp on
-- PATH (REN_API_KEY exported, or apiKeyCommand in ~/.config/ren-lsp/config.toml).
-- snippet: minimal
vim.lsp.enable('ren')
-- end snippet
