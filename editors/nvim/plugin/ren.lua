-- ren.nvim: the :Ren* commands and progress notifications, for every ren-lsp client.
-- Starting the server is vim.lsp.enable('ren') (Neovim 0.11+) or require('ren').setup().
if vim.g.loaded_ren or vim.fn.has('nvim-0.10') == 0 then
  return
end
vim.g.loaded_ren = true
require('ren').init()
