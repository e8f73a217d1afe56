-- Two refactors of one file, the second started while the first streams: both land where
-- they belong (Neovim sends unversioned edits, and its didChange after answering applyEdit).
local here = vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p:h')
local H = dofile(here .. '/harness.lua')

H.run(function()
  require('ren').setup({})
  local buf = H.open('billing.py')
  H.client(buf)
  vim.cmd('6,9RenRefactor')
  vim.cmd('12,14RenRefactor')
  local function ended()
    local ends = {}
    for _, p in ipairs(H.progress) do
      if p.kind == 'end' and p.message and p.message:find('billing.py', 1, true) then
        table.insert(ends, p.message)
      end
    end
    return ends
  end
  H.wait(15000, function() return #ended() >= 2 end, 'both refactors end')
  H.check(#ended() == 2, 'two refactors ended')
  H.data('ends', ended())
  H.data('text', H.text(buf))
end)
