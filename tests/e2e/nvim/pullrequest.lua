-- :RenPullRequest in a repository whose remote is the tests' local forge: the preview opens in
-- a split, Neovim asks (vim.ui.select, answered "Create" here as the user would), and the
-- pull request's URL is opened (vim.ui.open, recorded here instead of starting a browser).
local here = vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p:h')
local H = dofile(here .. '/harness.lua')

H.run(function()
  vim.cmd.runtime('plugin/ren.lua')
  dofile(H.plugin .. '/examples/minimal.lua')
  local buf = H.open('billing.py')
  H.client(buf)
  H.wait_progress_end('Indexing workspace')
  local asked, opened = {}, {}
  vim.ui.select = function(items, opts, on_choice)
    table.insert(asked, opts.prompt)
    for _, item in ipairs(items) do
      if item.title == 'Create' then
        return on_choice(item)
      end
    end
    on_choice(nil)
  end
  vim.ui.open = function(url)
    table.insert(opened, url)
    return nil, nil
  end
  vim.cmd('RenPullRequest')
  local preview = H.wait_output('# Add an invoice formatter', nil, 20000)
  local progress = H.wait_progress_end('Astra: Create pull request', 30000)
  H.check(preview ~= nil, 'the preview opens in a split')
  if preview then
    H.data('preview', H.text(preview))
  end
  H.check(#asked == 1, 'asked once to confirm', vim.inspect(asked))
  H.data('asked', asked)
  H.data('opened', opened)
  if progress then
    H.data('end', progress[#progress].message)
  end
  -- :RenPullRequest! with a title: nothing new to propose now, said in a message.
  vim.cmd('RenPullRequest! Another one')
  local again = H.wait(20000, function()
    return vim.iter(H.notes):any(function(n)
      return n.message:find('Already open', 1, true) ~= nil
    end)
  end, 'the second run finds the open pull request')
  if again then
    H.check(true, 'the second run finds the open pull request')
  end
end)
