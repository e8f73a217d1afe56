-- :checkhealth ren, as a user runs it: its report, line by line (the test reads it).
local here = vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p:h')
local H = dofile(here .. '/harness.lua')

H.run(function()
  vim.cmd.runtime('plugin/ren.lua')
  vim.lsp.enable('ren')
  local buf = H.open('billing.py')
  H.client(buf)
  vim.cmd('checkhealth ren')
  local report = vim.api.nvim_buf_get_lines(0, 0, -1, false)
  H.data('health', report)
  H.check(vim.bo.filetype == 'checkhealth', 'the report is open')
end)
