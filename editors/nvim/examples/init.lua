-- An init.lua with the extras: settings, progress in the statusline, keys. Works on 0.10 too.
-- snippet: extras
require('ren').setup({
  settings = { maxTokens = 8192 }, -- ren-lsp settings; never the key
  split = 'right', -- where Explain and Ask answers open
})

-- the running request ("Astra: Explain · 42 tokens · …") in the statusline
vim.o.statusline = "%<%f %h%m%r%=%{v:lua.require'ren'.status()}  %-14.(%l,%c%V%) %P"

-- normal mode: the paragraph at the cursor; visual mode: the selection
vim.keymap.set({ 'n', 'x' }, '<leader>ae', ':RenExplain<CR>', { desc = 'Astra: explain' })
vim.keymap.set({ 'n', 'x' }, '<leader>ar', ':RenRefactor<CR>', { desc = 'Astra: refactor' })
vim.keymap.set({ 'n', 'x' }, '<leader>af', ':RenFix<CR>', { desc = 'Astra: fix' })
vim.keymap.set({ 'n', 'x' }, '<leader>aa', ':RenAsk ', { desc = 'Astra: ask' })
vim.keymap.set('n', '<leader>ag', ':RenGenerate ', { desc = 'Astra: generate' })
vim.keymap.set('n', '<leader>ac', '<Cmd>RenCancel<CR>', { desc = 'Astra: cancel' })
-- end snippet
