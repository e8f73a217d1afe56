-- The Neovim 0.10 way (setup() starting ren-lsp with vim.lsp.start, forced here on 0.11), the
-- output below without focus, and :RenCancel stopping a slow answer (the test scripted the
-- emulator to trickle it).
local here = vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p:h')
local H = dofile(here .. '/harness.lua')

H.run(function()
  require('ren').setup({ start_with = 'start', split = 'below', focus = false })
  local buf, code_win = H.open('billing.py')
  H.client(buf)
  H.check(not (vim.lsp.is_enabled and vim.lsp.is_enabled('ren')), 'started without vim.lsp.enable')

  vim.cmd('6,9RenExplain')
  H.wait(10000, function()
    return vim.iter(H.progress):any(function(p)
      return p.kind == 'report' and p.title == 'Astra: Explain'
    end)
  end, 'the answer started streaming')
  local out = H.wait_output('**Ren emulator**')
  H.check(vim.api.nvim_get_current_win() == code_win, 'focus stays in the code (focus = false)')
  local win = out and H.output_windows()[out]
  H.check(win and vim.fn.win_screenpos(win)[1] > vim.fn.win_screenpos(code_win)[1],
    'the output opened below (split = below)')
  H.wait(5000, function()
    return win and vim.api.nvim_win_get_cursor(win)[1] == vim.api.nvim_buf_line_count(out)
  end, 'the output window follows the streamed text')
  vim.cmd('RenCancel')
  local values = H.wait_progress_end('Astra: Explain')
  local last = values and values[#values].message or ''
  H.check(last:find('^Cancelled') ~= nil, 'progress ends Cancelled', last)
  H.check(vim.iter(H.notes):any(function(n)
    return n.message:find('^Astra: Explain: Cancelled') and n.level == vim.log.levels.WARN
  end), 'vim.notify: cancelled (a warning)')
  if out then
    H.data('partial', H.text(out))
  end

  vim.cmd('RenCancel')
  H.wait(5000, function()
    return vim.iter(H.notes):any(function(n)
      return n.message == 'Nothing to cancel'
    end)
  end, 'a second :RenCancel has nothing to cancel')
end)
