-- :RenAgent in a real Neovim: the server asks before a command and Neovim shows it with
-- vim.ui.select (answered here as a user would, "Run"), the agent's edit lands in the open
-- buffer and on disk, the run is verified; then :RenUndo puts the buffer back.
local here = vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p:h')
local H = dofile(here .. '/harness.lua')

H.run(function()
  vim.cmd.runtime('plugin/ren.lua')
  dofile(H.plugin .. '/examples/minimal.lua')
  local buf = H.open('calc.py')
  H.client(buf)
  H.wait_progress_end('Indexing workspace')
  local before = H.text(buf)

  local asked = {}
  vim.ui.select = function(items, opts, on_choice) -- the user picks "Run"
    table.insert(asked, opts.prompt)
    for _, item in ipairs(items) do
      if item.title == 'Run' then
        return on_choice(item)
      end
    end
    on_choice(nil)
  end

  vim.b[buf].ren_verify = vim.env.REN_TEST_VERIFY
  vim.cmd('RenAgent make check.py pass')
  local values = H.wait_progress_end('Astra: Agent', 30000)
  local last = values and values[#values].message or ''
  H.check(last:find('^Verified') ~= nil, 'the run ends verified', last)
  H.check(#asked == 1 and asked[1]:find('echo checking', 1, true) ~= nil,
    'the command was asked for by name', vim.inspect(asked))
  H.data('after_agent', H.text(buf))
  H.check(H.text(buf):find('a + b', 1, true) ~= nil, 'the buffer shows the agent\'s edit')
  local on_disk = table.concat(vim.fn.readfile(vim.api.nvim_buf_get_name(buf)), '\n')
  H.check(H.text(buf) == on_disk, 'the buffer and the file agree', on_disk)

  vim.cmd('RenUndo')
  local undo = H.wait_progress_end('Astra: Undo', 10000)
  local undone = undo and undo[#undo].message or ''
  H.check(undone:find('^Restored 1 file: calc.py') ~= nil, 'undo restored calc.py', undone)
  H.wait(5000, function()
    return H.text(buf) == before
  end, 'the buffer is back as it was', function()
    return H.text(buf)
  end)
end)
